"""Run the Pulumi program offline, under Pulumi's mocks: for tests, `render` and reviews without credentials."""
