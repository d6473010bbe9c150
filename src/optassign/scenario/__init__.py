"""The inputs, validated: a Scenario of DataFrames read from a folder or built from frames,
the policies in models/ and the synthetic-scenario generator. Builds on `contract`."""
