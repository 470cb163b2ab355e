"""End-to-end tests: live `bitext serve` processes, browsers, real clients, crashes, replicas, Ray."""
