import json

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import MaxRetryError, NewConnectionError

from console.cluster.errors import message_of


def api_error(status, body):
    exc = ApiException(status=status, reason="x")
    exc.body = json.dumps(body) if isinstance(body, dict) else body
    return exc


def test_the_status_message_is_the_users_message():
    forbidden = {"kind": "Status", "status": "Failure", "reason": "Forbidden", "code": 403,
                 "message": 'deployments.apps "order" is forbidden: User "student" cannot patch '
                            'resource "deployments" in API group "apps" in the namespace "lab"'}
    assert message_of(api_error(403, forbidden)) == forbidden["message"]
    invalid = {"kind": "Status", "code": 422, "message": 'Deployment.apps "x" is invalid: '
               'spec.replicas: Invalid value: -1: must be greater than or equal to 0'}
    assert message_of(api_error(422, invalid)).startswith('Deployment.apps "x" is invalid')
    assert message_of(api_error(502, "<html>bad gateway</html>\nmore")) == "<html>bad gateway</html>"
    assert message_of(api_error(500, "")) == "500 x"


def test_transport_errors_read_as_such():
    refused = MaxRetryError(None, "/api", NewConnectionError(None, "Connection refused"))
    assert message_of(refused) == "cannot reach the API server: connection refused"
    assert message_of(ValueError("a\nb")) == "ValueError: a"
