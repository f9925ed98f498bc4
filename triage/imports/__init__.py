"""Reading and checking extract files, and importing them with quarantine."""
