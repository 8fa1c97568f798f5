"""What a person sees on a terminal: notification printers (printers.py), event lines (events.py), the live view
(liveview.py), and `inert` (inert.py), which every human view applies to text from logs. No import here: the service
side's logging configuration uses inert."""
