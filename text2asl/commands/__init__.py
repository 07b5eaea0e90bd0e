"""Every `text2asl` command's options and entry point, one module a command (registered in `text2asl.cli`);
`settings` derives options from a settings dataclass."""
