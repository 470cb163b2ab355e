"""What the tests share: fake engines, the live-server helper, PostgreSQL, text generators."""
