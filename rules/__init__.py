"""The default ClipForge rule pack: YAML rule files, installed with logpipe as `logpipe.defaultrules`."""
