"""One module per CLI command. Each imports its engine inside the command, not at the top."""
