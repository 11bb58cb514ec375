"""The OpenAPI 3.1 description of the JSON API, served at /api/v1/openapi.json.

tests/test_openapi.py calls every operation described here and checks the answers against it,
so this stays true to what api.py does.
"""

from editor.models import Edit


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict:
    meanings = {
        400: "The request is not valid; `error.field` names the field.",
        401: "No valid API token.",
        404: "No such edit (or it belongs to someone else).",
        409: "The edit is not in a state that allows this.",
        413: "The request body is too large.",
        429: "A daily or per-minute limit is reached; see `Retry-After`.",
    }
    return {str(status): _json(_ref("Error"), meanings[status]) for status in statuses}


EDIT_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "field": {"type": "string"},
                    "retry_after": {"type": "integer"},
                },
            }
        },
    },
    "Image": {
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {"type": "string", "format": "uri"},
            "width": {"type": "integer"},
            "height": {"type": "integer"},
        },
    },
    "Share": {
        "type": "object",
        "required": ["url", "show_original", "show_instruction", "created"],
        "properties": {
            "url": {"type": "string", "format": "uri"},
            "show_original": {"type": "boolean"},
            "show_instruction": {"type": "boolean"},
            "created": {"type": "string", "format": "date-time"},
        },
    },
    "Edit": {
        "type": "object",
        "required": [
            *("id", "status", "stage", "progress", "error", "instruction", "model"),
            *("sources", "results", "share", "created", "finished"),
        ],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "status": {"type": "string", "enum": list(Edit.Status.values)},
            "stage": {"type": "string", "enum": list(Edit.Stage.values)},
            "progress": {"type": ["integer", "null"], "minimum": 0, "maximum": 100},
            "error": {
                "type": ["object", "null"],
                "required": ["code", "message", "detail"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "detail": {"type": "string"},
                },
            },
            "instruction": {"type": "string"},
            "model": {"type": "string"},
            "sources": {"type": "array", "items": _ref("Image")},
            "results": {"type": "array", "items": _ref("Image")},
            "share": {"oneOf": [_ref("Share"), {"type": "null"}]},
            "created": {"type": "string", "format": "date-time"},
            "finished": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "Accepted": {
        "type": "object",
        "required": ["id", "status", "url"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "status": {"type": "string"},
            "url": {"type": "string", "format": "uri"},
        },
    },
    "EditList": {
        "type": "object",
        "required": ["results", "count", "page", "pages"],
        "properties": {
            "results": {"type": "array", "items": _ref("Edit")},
            "count": {"type": "integer"},
            "page": {"type": "integer"},
            "pages": {"type": "integer"},
        },
    },
    "Models": {
        "type": "object",
        "required": ["models", "default"],
        "properties": {
            "models": {"type": "array", "items": {"type": "string"}},
            "default": {"type": "string"},
        },
    },
}


def openapi_document(server_url: str) -> dict:
    edit_ops = {
        "get": {
            "summary": "One edit, with links to its pictures (they take the same token)",
            "parameters": [EDIT_ID],
            "responses": {"200": _json(_ref("Edit"), "The edit."), **_errors(401, 404)},
        },
        "delete": {
            "summary": "Delete an edit and its pictures (a running edit is canceled first)",
            "parameters": [EDIT_ID],
            "responses": {"204": {"description": "Deleted."}, **_errors(401, 404)},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Gaitu API",
            "version": "1",
            "description": "Edit pictures with AI. Create a token with "
            "`manage.py create_api_token USERNAME` or on the account page.",
        },
        "servers": [{"url": server_url}],
        "security": [{"token": []}],
        "paths": {
            "/edits": {
                "get": {
                    "summary": "Your edits, newest first",
                    "parameters": [
                        {
                            "name": "status",
                            "in": "query",
                            "schema": {"type": "string", "enum": list(Edit.Status.values)},
                        },
                        {"name": "page", "in": "query", "schema": {"type": "integer"}},
                    ],
                    "responses": {
                        "200": _json(_ref("EditList"), "A page of edits."),
                        **_errors(400, 401, 404),
                    },
                },
                "post": {
                    "summary": "Start an edit",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["image", "instruction"],
                                    "properties": {
                                        "image": {
                                            "type": "array",
                                            "items": {"type": "string", "format": "binary"},
                                        },
                                        "instruction": {"type": "string", "maxLength": 4000},
                                        "model": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "202": _json(_ref("Accepted"), "Queued; poll `url`."),
                        **_errors(400, 401, 413, 429),
                    },
                },
            },
            "/edits/{id}": edit_ops,
            "/edits/{id}/cancel": {
                "post": {
                    "summary": "Cancel a queued or running edit",
                    "parameters": [EDIT_ID],
                    "responses": {
                        "200": _json(_ref("Edit"), "Canceled."),
                        **_errors(401, 404, 409),
                    },
                }
            },
            "/edits/{id}/retry": {
                "post": {
                    "summary": "Run a failed or canceled edit again with the same originals",
                    "parameters": [EDIT_ID],
                    "responses": {
                        "202": _json(_ref("Edit"), "Queued again."),
                        **_errors(401, 404, 409),
                    },
                }
            },
            "/edits/{id}/share": {
                "post": {
                    "summary": "Make (or change) the public link to a finished edit",
                    "parameters": [EDIT_ID],
                    "requestBody": {
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "show_original": {"type": "boolean"},
                                        "show_instruction": {"type": "boolean"},
                                    },
                                }
                            }
                        }
                    },
                    "responses": {
                        "201": _json(_ref("Share"), "Shared."),
                        "200": _json(_ref("Share"), "Already shared; settings updated."),
                        **_errors(401, 404, 409),
                    },
                },
                "delete": {
                    "summary": "Revoke the public link; it then answers 404",
                    "parameters": [EDIT_ID],
                    "responses": {"204": {"description": "Revoked."}, **_errors(401, 404)},
                },
            },
            "/models": {
                "get": {
                    "summary": "The models this installation offers",
                    "responses": {
                        "200": _json(_ref("Models"), "Model names."),
                        **_errors(401),
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
    }
