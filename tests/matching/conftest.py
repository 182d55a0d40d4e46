import pytest
from django.contrib.auth.models import User
from django.test import Client


@pytest.fixture
def managed(client: Client, manager: User) -> Client:
    """The test client, signed in as the programme's manager."""
    client.force_login(manager)
    return client
