"""The data contract, the bottom of the flow: column specs and row rules of every input and plan
table (schema), reading CSV and YAML against them with located problems (io), and writing plan
folders safely (writer, names). Imports nothing else of optassign but `interrupt`."""
