"""Stream backup and restore over the snapshot chunk protocol ($JS.API.STREAM.SNAPSHOT/RESTORE)."""
