"""What `logpipe follow` runs: build.py puts it together from the config (the composition root), follower.py is its
loop; monitors.py the probe and resource threads beside the log readers, reload.py what SIGHUP re-reads."""
