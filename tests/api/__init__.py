"""API tests: the FastAPI app in process (TestClient) with the fake engine: routes, errors, limits."""
