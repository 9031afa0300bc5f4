import pytest


@pytest.fixture
def anyio_backend():
    # Async tests use anyio's pytest plugin (installed with httpx) on asyncio.
    return "asyncio"
