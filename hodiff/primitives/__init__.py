"""The primitive tables: implementations and rules, one place per primitive."""
