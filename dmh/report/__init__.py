"""The presentation layer: tables and figures' data from stored records. It reads, never
trains: a missing record raises `MissingRecord` naming the `dmh grid` command that makes it."""
