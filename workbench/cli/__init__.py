"""The command line: argument parsing and printing only. Every flow comes from
`workbench.flows`; the terminal app is imported only for `workbench [PATH]`."""
