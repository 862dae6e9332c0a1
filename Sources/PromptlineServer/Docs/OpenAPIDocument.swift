/// The OpenAPI 3.1 description of every route, served at `GET /openapi.json`.
///
/// Kept in source rather than as a bundle resource so that the `promptline` binary works
/// wherever it is copied. `OpenAPIDocumentTests` fails when a route is registered on the
/// router without an operation here.
enum OpenAPIDocument {
    static let json = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "Promptline",
    "version": "1.0.0",
    "summary": "An asynchronous LLM job server with an OpenAI-compatible surface.",
    "description": "Submit prompts and get task ids back at once; a pool of workers sends each prompt to an OpenAI-compatible upstream and keeps the status and result with an expiry time. `/api` routes answer errors as `{\"detail\": \"...\"}`, `/v1` routes in OpenAI's shape `{\"error\": {\"message\", \"type\", \"code\"}}`. When API keys are configured, every `/api` and `/v1` route needs `Authorization: Bearer KEY`; `/health`, `/metrics`, `/openapi.json` and `/docs` stay open."
  },
  "tags": [
    {"name": "tasks", "description": "The task API: submit prompts, read and cancel tasks."},
    {"name": "operations", "description": "Queue figures, the cluster, the cache, health and metrics."},
    {"name": "openai", "description": "OpenAI-compatible chat completions and models, relayed to the upstream."},
    {"name": "batches", "description": "OpenAI's Batch API: input files and batches, run on the task queue."},
    {"name": "docs", "description": "This document and its page."}
  ],
  "paths": {
    "/api/tasks": {
      "post": {
        "tags": ["tasks"],
        "operationId": "submitTasks",
        "summary": "Submit prompts",
        "description": "Stores one task per prompt, all or nothing, and answers their ids in order. With an `idempotency_key` seen before, nothing is queued and the first ids come back with `duplicate: true` and status 200.",
        "security": [{"bearerAuth": []}],
        "requestBody": {
          "required": true,
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SubmitRequest"},
            "example": {"prompts": ["Translate hello to French", {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a prime."}], "max_tokens": 20}], "model": "gpt-4o-mini", "priority": 1}}}
        },
        "responses": {
          "202": {
            "description": "The tasks are stored and queued.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SubmitResponse"}}},
            "links": {
              "GetFirstTask": {"operationId": "getTask", "parameters": {"id": "$response.body#/task_ids/0"}},
              "CancelFirstTask": {"operationId": "cancelTask", "parameters": {"id": "$response.body#/task_ids/0"}},
              "WatchFirstTask": {"operationId": "taskEvents", "parameters": {"task_ids": "$response.body#/task_ids/0"}}
            }
          },
          "200": {"description": "The idempotency key was seen before: nothing new was queued.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SubmitResponse"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "413": {"$ref": "#/components/responses/ContentTooLarge"},
          "422": {"$ref": "#/components/responses/UnprocessableContent"},
          "429": {"$ref": "#/components/responses/TooManyRequests"},
          "503": {"$ref": "#/components/responses/ServiceUnavailable"}
        }
      },
      "get": {
        "tags": ["tasks"],
        "operationId": "readTasks",
        "summary": "Read many tasks",
        "description": "Answers a map from each id to its summary; an unknown or expired id reads as `{\"status\": \"not_found\"}`.",
        "security": [{"bearerAuth": []}],
        "parameters": [
          {"name": "task_ids", "in": "query", "required": true, "description": "Comma-separated task ids, at most 10,000; the request line must also stay under about 80 KB (some 2,000 UUIDs), or the HTTP layer answers a bare 400.", "schema": {"type": "string", "pattern": "[^,\\s]"}, "example": "0b6f2c1e,5d1a9e30"}
        ],
        "responses": {
          "200": {"description": "Each id's summary.", "content": {"application/json": {"schema": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/TaskSummary"}}}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "429": {"$ref": "#/components/responses/TooManyRequests"},
          "503": {"$ref": "#/components/responses/ServiceUnavailable"}
        }
      }
    },
    "/api/tasks/events": {
      "get": {
        "tags": ["tasks"],
        "operationId": "taskEvents",
        "summary": "Stream status changes",
        "description": "Server-sent events: one `status` event (data: a `TaskEvent`) each time a watched task changes, then a final `done` event once every watched task has finished. Watch tasks by `task_ids` or every task of a submission by `batch_id`.",
        "security": [{"bearerAuth": []}],
        "parameters": [
          {"name": "task_ids", "in": "query", "required": false, "description": "Comma-separated task ids.", "schema": {"type": "string"}},
          {"name": "batch_id", "in": "query", "required": false, "description": "The `batch_id` a submission answered.", "schema": {"type": "string"}}
        ],
        "responses": {
          "200": {"description": "An event stream: `event: status` with a `TaskEvent` as data, and a final `event: done`.", "content": {"text/event-stream": {"schema": {"$ref": "#/components/schemas/TaskEventStreamEvent"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "404": {"$ref": "#/components/responses/NotFound"},
          "429": {"$ref": "#/components/responses/TooManyRequests"},
          "503": {"$ref": "#/components/responses/ServiceUnavailable"}
        }
      }
    },
    "/api/tasks/{id}": {
      "parameters": [{"name": "id", "in": "path", "required": true, "description": "A task id.", "schema": {"type": "string"}}],
      "get": {
        "tags": ["tasks"],
        "operationId": "getTask",
        "summary": "Read one task in detail",
        "security": [{"bearerAuth": []}],
        "responses": {
          "200": {"description": "The task.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TaskDetail"}}}},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "404": {"$ref": "#/components/responses/NotFound"},
          "429": {"$ref": "#/components/responses/TooManyRequests"},
          "503": {"$ref": "#/components/responses/ServiceUnavailable"}
        }
      },
      "delete": {
        "tags": ["tasks"],
        "operationId": "cancelTask",
        "summary": "Cancel an unfinished task",
        "security": [{"bearerAuth": []}],
        "responses": {
          "200": {"description": "The task is cancelled.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CancelResponse"}}}},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "404": {"$ref": "#/components/responses/NotFound"},
          "409": {"$ref": "#/components/responses/Conflict"},
          "429": {"$ref": "#/components/responses/TooManyRequests"},
          "503": {"$ref": "#/components/responses/ServiceUnavailable"}
        }
      }
    },
    "/api/stats": {
      "get": {
        "tags": ["operations"],
        "operationId": "getStats",
        "summary": "Queue counts and this instance's workers",
        "security": [{"bearerAuth": []}],
        "responses": {
          "200": {"description": "The figures.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Stats"}}}},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "429": {"$ref": "#/components/responses/TooManyRequests"},
          "503": {"$ref": "#/components/responses/ServiceUnavailable"}
        }
      }
    },
    "/api/cluster": {
      "get": {
        "tags": ["operations"],
        "operationId": "getCluster",
        "summary": "The live instances and the shared queue",
        "security": [{"bearerAuth": []}],
        "responses": {
          "200": {"description": "The cluster.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Cluster"}}}},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "429": {"$ref": "#/components/responses/TooManyRequests"},
          "503": {"$ref": "#/components/responses/ServiceUnavailable"}
        }
      }
    },
    "/api/cache": {
      "get": {
        "tags": ["operations"],
        "operationId": "getCache",
        "summary": "This instance's response cache",
        "security": [{"bearerAuth": []}],
        "responses": {
          "200": {"description": "Hits, misses and size since start.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CacheReport"}}}},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "429": {"$ref": "#/components/responses/TooManyRequests"}
        }
      }
    },
    "/v1/chat/completions": {
      "post": {
        "tags": ["openai"],
        "operationId": "createChatCompletion",
        "summary": "Create a chat completion (relayed)",
        "description": "The body goes upstream as written (only Promptline's `cache` flag is taken out; `model` defaults to the server's). Plain answers may come from the exact-match cache (header `x-promptline-cache`: `hit`, `miss`, `coalesced` or `bypass`); `Cache-Control: no-cache` or `\"cache\": false` bypasses it. With `stream: true` the answer is relayed as server-sent events. Upstream errors keep their status; no answer from the upstream is 502, a timeout 504.",
        "security": [{"bearerAuth": []}],
        "requestBody": {
          "required": true,
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatCompletionRequest"},
            "example": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello"}], "max_tokens": 20}}}
        },
        "responses": {
          "200": {
            "description": "The upstream's answer: a chat completion, or with `stream: true` its chunks as server-sent events ending with `data: [DONE]`.",
            "headers": {"x-promptline-cache": {"description": "How the cache took part: hit, miss, coalesced or bypass.", "schema": {"type": "string"}}},
            "content": {
              "application/json": {"schema": {"$ref": "#/components/schemas/ChatCompletion"}},
              "text/event-stream": {"schema": {"$ref": "#/components/schemas/ChatCompletionStreamEvent"}}
            }
          },
          "400": {"$ref": "#/components/responses/OpenAIBadRequest"},
          "401": {"$ref": "#/components/responses/OpenAIUnauthorized"},
          "413": {"$ref": "#/components/responses/OpenAIContentTooLarge"},
          "429": {"$ref": "#/components/responses/OpenAITooManyRequests"},
          "4XX": {"$ref": "#/components/responses/OpenAIUpstreamError"},
          "502": {"$ref": "#/components/responses/OpenAIBadGateway"},
          "504": {"$ref": "#/components/responses/OpenAIGatewayTimeout"},
          "5XX": {"$ref": "#/components/responses/OpenAIUpstreamError"}
        }
      }
    },
    "/v1/models": {
      "get": {
        "tags": ["openai"],
        "operationId": "listModels",
        "summary": "List the upstream's models (relayed)",
        "security": [{"bearerAuth": []}],
        "responses": {
          "200": {"description": "The upstream's model list.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ModelList"}}}},
          "401": {"$ref": "#/components/responses/OpenAIUnauthorized"},
          "429": {"$ref": "#/components/responses/OpenAITooManyRequests"},
          "4XX": {"$ref": "#/components/responses/OpenAIUpstreamError"},
          "502": {"$ref": "#/components/responses/OpenAIBadGateway"},
          "504": {"$ref": "#/components/responses/OpenAIGatewayTimeout"},
          "5XX": {"$ref": "#/components/responses/OpenAIUpstreamError"}
        }
      }
    },
    "/v1/files": {
      "post": {
        "tags": ["batches"],
        "operationId": "uploadFile",
        "summary": "Upload a batch input file",
        "description": "A JSONL file, one request per line: `{\"custom_id\", \"method\": \"POST\", \"url\": \"/v1/chat/completions\", \"body\": {...}}`. The whole file is checked on upload; the first bad line is named in the error.",
        "security": [{"bearerAuth": []}],
        "requestBody": {
          "required": true,
          "content": {"multipart/form-data": {"schema": {"$ref": "#/components/schemas/FileUpload"},
            "example": {"purpose": "batch", "file": "{\"custom_id\": \"q1\", \"method\": \"POST\", \"url\": \"/v1/chat/completions\", \"body\": {\"model\": \"gpt-4o-mini\", \"messages\": [{\"role\": \"user\", \"content\": \"Say hello\"}]}}\n"}}}
        },
        "responses": {
          "200": {
            "description": "The stored file.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FileObject"}}},
            "links": {
              "GetFile": {"operationId": "getFile", "parameters": {"id": "$response.body#/id"}},
              "GetFileContent": {"operationId": "getFileContent", "parameters": {"id": "$response.body#/id"}},
              "CreateBatch": {"operationId": "createBatch", "requestBody": {"input_file_id": "{$response.body#/id}", "endpoint": "/v1/chat/completions", "completion_window": "24h"}}
            }
          },
          "400": {"$ref": "#/components/responses/OpenAIBadRequest"},
          "401": {"$ref": "#/components/responses/OpenAIUnauthorized"},
          "413": {"$ref": "#/components/responses/OpenAIContentTooLarge"},
          "415": {"$ref": "#/components/responses/OpenAIUnsupportedMediaType"},
          "429": {"$ref": "#/components/responses/OpenAITooManyRequests"},
          "503": {"$ref": "#/components/responses/OpenAIServiceUnavailable"}
        }
      }
    },
    "/v1/files/{id}": {
      "parameters": [{"name": "id", "in": "path", "required": true, "description": "A file id: an uploaded file, or a batch's output or error file.", "schema": {"type": "string"}}],
      "get": {
        "tags": ["batches"],
        "operationId": "getFile",
        "summary": "Read a file's record",
        "security": [{"bearerAuth": []}],
        "responses": {
          "200": {"description": "The file.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FileObject"}}}},
          "401": {"$ref": "#/components/responses/OpenAIUnauthorized"},
          "404": {"$ref": "#/components/responses/OpenAINotFound"},
          "429": {"$ref": "#/components/responses/OpenAITooManyRequests"},
          "503": {"$ref": "#/components/responses/OpenAIServiceUnavailable"}
        }
      }
    },
    "/v1/files/{id}/content": {
      "parameters": [{"name": "id", "in": "path", "required": true, "description": "A file id.", "schema": {"type": "string"}}],
      "get": {
        "tags": ["batches"],
        "operationId": "getFileContent",
        "summary": "Download a file",
        "description": "An input file as uploaded; a batch's output file holds one `BatchResultLine` per completed request, its error file one per failed request, in input order.",
        "security": [{"bearerAuth": []}],
        "responses": {
          "200": {"description": "The file's bytes (JSONL).", "content": {"application/octet-stream": {"schema": {"type": "string", "contentMediaType": "application/jsonl"}}}},
          "401": {"$ref": "#/components/responses/OpenAIUnauthorized"},
          "404": {"$ref": "#/components/responses/OpenAINotFound"},
          "429": {"$ref": "#/components/responses/OpenAITooManyRequests"},
          "503": {"$ref": "#/components/responses/OpenAIServiceUnavailable"}
        }
      }
    },
    "/v1/batches": {
      "post": {
        "tags": ["batches"],
        "operationId": "createBatch",
        "summary": "Start a batch",
        "description": "Queues one task per line of the input file (task ids `{batch id}-{line index}`).",
        "security": [{"bearerAuth": []}],
        "requestBody": {
          "required": true,
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchCreateRequest"},
            "example": {"input_file_id": "file-3f2a9c", "endpoint": "/v1/chat/completions", "completion_window": "24h"}}}
        },
        "responses": {
          "200": {
            "description": "The batch, in progress.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Batch"}}},
            "links": {
              "GetBatch": {"operationId": "getBatch", "parameters": {"id": "$response.body#/id"}},
              "CancelBatch": {"operationId": "cancelBatch", "parameters": {"id": "$response.body#/id"}}
            }
          },
          "400": {"$ref": "#/components/responses/OpenAIBadRequest"},
          "401": {"$ref": "#/components/responses/OpenAIUnauthorized"},
          "413": {"$ref": "#/components/responses/OpenAIContentTooLarge"},
          "422": {"$ref": "#/components/responses/OpenAIUnprocessableContent"},
          "429": {"$ref": "#/components/responses/OpenAITooManyRequests"},
          "503": {"$ref": "#/components/responses/OpenAIServiceUnavailable"}
        }
      },
      "get": {
        "tags": ["batches"],
        "operationId": "listBatches",
        "summary": "List batches",
        "security": [{"bearerAuth": []}],
        "parameters": [
          {"name": "limit", "in": "query", "required": false, "description": "How many, 1 to 100.", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
          {"name": "after", "in": "query", "required": false, "description": "The last id of the previous page.", "schema": {"type": "string"}}
        ],
        "responses": {
          "200": {"description": "A page of batches.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchList"}}}},
          "400": {"$ref": "#/components/responses/OpenAIBadRequest"},
          "401": {"$ref": "#/components/responses/OpenAIUnauthorized"},
          "429": {"$ref": "#/components/responses/OpenAITooManyRequests"},
          "503": {"$ref": "#/components/responses/OpenAIServiceUnavailable"}
        }
      }
    },
    "/v1/batches/{id}": {
      "parameters": [{"name": "id", "in": "path", "required": true, "description": "A batch id.", "schema": {"type": "string"}}],
      "get": {
        "tags": ["batches"],
        "operationId": "getBatch",
        "summary": "Read a batch",
        "security": [{"bearerAuth": []}],
        "responses": {
          "200": {"description": "The batch.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Batch"}}}},
          "401": {"$ref": "#/components/responses/OpenAIUnauthorized"},
          "404": {"$ref": "#/components/responses/OpenAINotFound"},
          "429": {"$ref": "#/components/responses/OpenAITooManyRequests"},
          "503": {"$ref": "#/components/responses/OpenAIServiceUnavailable"}
        }
      }
    },
    "/v1/batches/{id}/cancel": {
      "parameters": [{"name": "id", "in": "path", "required": true, "description": "A batch id.", "schema": {"type": "string"}}],
      "post": {
        "tags": ["batches"],
        "operationId": "cancelBatch",
        "summary": "Cancel a running batch",
        "description": "The batch becomes `cancelling`, then `cancelled` once its unfinished requests are cancelled.",
        "security": [{"bearerAuth": []}],
        "responses": {
          "200": {"description": "The batch.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Batch"}}}},
          "401": {"$ref": "#/components/responses/OpenAIUnauthorized"},
          "404": {"$ref": "#/components/responses/OpenAINotFound"},
          "409": {"$ref": "#/components/responses/OpenAIConflict"},
          "429": {"$ref": "#/components/responses/OpenAITooManyRequests"},
          "503": {"$ref": "#/components/responses/OpenAIServiceUnavailable"}
        }
      }
    },
    "/health/live": {
      "get": {
        "tags": ["operations"],
        "operationId": "live",
        "summary": "The process answers",
        "security": [],
        "responses": {
          "200": {"description": "Alive.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}
        }
      }
    },
    "/health/ready": {
      "get": {
        "tags": ["operations"],
        "operationId": "ready",
        "summary": "The store answers",
        "security": [],
        "responses": {
          "200": {"description": "Ready to take work.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}},
          "503": {"$ref": "#/components/responses/ServiceUnavailable"}
        }
      }
    },
    "/metrics": {
      "get": {
        "tags": ["operations"],
        "operationId": "metrics",
        "summary": "Prometheus metrics",
        "description": "Queue depth, tasks in flight, task and upstream latency histograms, errors by class, retries, cache hits, in Prometheus' text format.",
        "security": [],
        "responses": {
          "200": {"description": "The metrics.", "content": {"text/plain": {"schema": {"type": "string"}}}}
        }
      }
    },
    "/openapi.json": {
      "get": {
        "tags": ["docs"],
        "operationId": "openAPIDocument",
        "summary": "This OpenAPI document",
        "security": [],
        "responses": {
          "200": {"description": "The document.", "content": {"application/json": {"schema": {"type": "object"}}}}
        }
      }
    },
    "/docs": {
      "get": {
        "tags": ["docs"],
        "operationId": "docsPage",
        "summary": "A readable page of this document",
        "security": [],
        "responses": {
          "200": {"description": "The page; it needs no other site.", "content": {"text/html": {"schema": {"type": "string"}}}}
        }
      }
    }
  },
  "components": {
    "securitySchemes": {
      "bearerAuth": {"type": "http", "scheme": "bearer", "description": "An API key: `Authorization: Bearer KEY`. Needed on `/api` and `/v1` routes once keys are configured."}
    },
    "headers": {
      "RetryAfter": {"description": "Seconds to wait before trying again.", "schema": {"type": "string"}}
    },
    "responses": {
      "BadRequest": {"description": "Malformed request: invalid JSON, a missing or empty required field.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Detail"}}}},
      "Unauthorized": {"description": "Missing or unknown API key.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Detail"}}}},
      "NotFound": {"description": "Unknown or expired, or another key's.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Detail"}}}},
      "Conflict": {"description": "Already finished.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Detail"}}}},
      "ContentTooLarge": {"description": "The body, or the number or length of prompts, is over a limit.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Detail"}}}},
      "UnprocessableContent": {"description": "A field has the wrong type or a value out of range; the message names it.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Detail"}}}},
      "TooManyRequests": {"description": "A rate limit of the key was reached.", "headers": {"Retry-After": {"$ref": "#/components/headers/RetryAfter"}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Detail"}}}},
      "ServiceUnavailable": {"description": "The task store is unreachable; nothing was changed.", "headers": {"Retry-After": {"$ref": "#/components/headers/RetryAfter"}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Detail"}}}},
      "OpenAIBadRequest": {"description": "Malformed request.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OpenAIError"}}}},
      "OpenAIUnauthorized": {"description": "Missing or unknown API key.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OpenAIError"}}}},
      "OpenAINotFound": {"description": "Unknown or expired, or another key's.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OpenAIError"}}}},
      "OpenAIConflict": {"description": "Already ended.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OpenAIError"}}}},
      "OpenAIContentTooLarge": {"description": "The body or file is over a limit.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OpenAIError"}}}},
      "OpenAIUnsupportedMediaType": {"description": "Not a multipart/form-data upload.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OpenAIError"}}}},
      "OpenAIUnprocessableContent": {"description": "A field has the wrong type; the message names it.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OpenAIError"}}}},
      "OpenAITooManyRequests": {"description": "A rate limit was reached: the key's, or the upstream's pause.", "headers": {"Retry-After": {"$ref": "#/components/headers/RetryAfter"}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OpenAIError"}}}},
      "OpenAIServiceUnavailable": {"description": "The store is unreachable; nothing was changed.", "headers": {"Retry-After": {"$ref": "#/components/headers/RetryAfter"}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OpenAIError"}}}},
      "OpenAIBadGateway": {"description": "No answer from the upstream (connection refused or reset, or an unreadable answer).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OpenAIError"}}}},
      "OpenAIGatewayTimeout": {"description": "The upstream did not answer in time.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OpenAIError"}}}},
      "OpenAIUpstreamError": {"description": "The upstream's own error, with its status.", "headers": {"Retry-After": {"$ref": "#/components/headers/RetryAfter"}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OpenAIError"}}}}
    },
    "schemas": {
      "Detail": {
        "type": "object", "required": ["detail"],
        "properties": {"detail": {"type": "string", "description": "What is wrong."}}
      },
      "OpenAIError": {
        "type": "object", "required": ["error"],
        "properties": {
          "error": {
            "type": "object", "required": ["message"],
            "properties": {
              "message": {"type": "string"},
              "type": {"type": ["string", "null"], "description": "invalid_request_error, authentication_error, not_found_error, rate_limit_error, server_error, or the upstream's."},
              "code": {"type": ["string", "null"]}
            }
          }
        }
      },
      "Metadata": {
        "type": "object", "maxProperties": 16, "description": "A small string map kept with the task: keys up to 64 characters, values up to 512.",
        "propertyNames": {"maxLength": 64},
        "additionalProperties": {"type": "string", "maxLength": 512}
      },
      "ChatMessage": {
        "type": "object", "required": ["role", "content"],
        "properties": {
          "role": {"type": "string", "enum": ["system", "developer", "user", "assistant", "tool"]},
          "content": {"type": "string"}
        }
      },
      "PromptOptions": {
        "type": "object",
        "properties": {
          "model": {"type": "string", "minLength": 1, "maxLength": 256},
          "max_tokens": {"type": "integer", "minimum": 1, "maximum": 1000000},
          "temperature": {"type": "number", "minimum": 0, "maximum": 2},
          "priority": {"type": "integer", "format": "int64", "description": "Higher runs first; within a priority, the oldest first."},
          "metadata": {"$ref": "#/components/schemas/Metadata"},
          "cache": {"type": "boolean", "description": "false: never answer from the response cache."}
        }
      },
      "PromptObject": {
        "description": "One prompt with its own options, which win over the request's. Give `prompt` or `messages`, not both.",
        "allOf": [{"$ref": "#/components/schemas/PromptOptions"}],
        "type": "object",
        "properties": {
          "prompt": {"type": "string", "minLength": 1},
          "messages": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/ChatMessage"}}
        },
        "oneOf": [{"required": ["prompt"]}, {"required": ["messages"]}]
      },
      "SubmitRequest": {
        "allOf": [{"$ref": "#/components/schemas/PromptOptions"}],
        "type": "object", "required": ["prompts"],
        "properties": {
          "prompts": {
            "type": "array", "minItems": 1, "maxItems": 50000,
            "description": "One task per entry: a user message as a string, or a `PromptObject`.",
            "items": {"oneOf": [{"type": "string", "minLength": 1}, {"$ref": "#/components/schemas/PromptObject"}]}
          },
          "idempotency_key": {"type": "string", "minLength": 1, "maxLength": 256, "description": "The same key again answers the same ids and queues nothing."},
          "webhook_url": {"type": "string", "format": "uri", "pattern": "^https?://", "description": "An http(s) URL that receives one signed (HMAC-SHA256) POST when every task of the submission has finished."}
        }
      },
      "SubmitResponse": {
        "type": "object", "required": ["task_ids", "status"],
        "properties": {
          "task_ids": {"type": "array", "items": {"type": "string"}, "description": "One per prompt, in order."},
          "status": {"type": "string", "const": "queued"},
          "batch_id": {"type": "string", "description": "The submission's id: watch it with `GET /api/tasks/events?batch_id=`."},
          "duplicate": {"type": "boolean", "description": "Present (true) when the idempotency key had been seen."}
        }
      },
      "TaskStatus": {"type": "string", "enum": ["queued", "processing", "completed", "error", "cancelled"]},
      "TaskSummary": {
        "type": "object", "required": ["status"],
        "description": "`{\"status\": \"not_found\"}` alone for an unknown or expired id; otherwise all four fields.",
        "properties": {
          "status": {"type": "string", "enum": ["queued", "processing", "completed", "error", "cancelled", "not_found"]},
          "result": {"type": ["string", "null"]},
          "error": {"type": ["string", "null"], "description": "What went wrong, naming the cause."},
          "progress": {"type": ["string", "null"], "description": "\"0\" to \"100\"."}
        }
      },
      "TokenUsage": {
        "type": "object", "required": ["prompt_tokens", "completion_tokens", "total_tokens"],
        "properties": {
          "prompt_tokens": {"type": "integer"},
          "completion_tokens": {"type": "integer"},
          "total_tokens": {"type": "integer"}
        }
      },
      "TaskDetail": {
        "type": "object",
        "required": ["id", "status", "result", "error", "progress", "attempts", "model", "priority", "max_tokens", "temperature", "metadata", "usage", "queued_at", "started_at", "finished_at"],
        "properties": {
          "id": {"type": "string"},
          "status": {"$ref": "#/components/schemas/TaskStatus"},
          "result": {"type": ["string", "null"]},
          "error": {"type": ["string", "null"]},
          "progress": {"type": "string"},
          "attempts": {"type": "integer"},
          "model": {"type": "string"},
          "priority": {"type": "integer"},
          "max_tokens": {"type": "integer"},
          "temperature": {"type": "number"},
          "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
          "usage": {"oneOf": [{"$ref": "#/components/schemas/TokenUsage"}, {"type": "null"}]},
          "queued_at": {"type": "string", "format": "date-time"},
          "started_at": {"type": ["string", "null"], "format": "date-time"},
          "finished_at": {"type": ["string", "null"], "format": "date-time"}
        }
      },
      "TaskEvent": {
        "type": "object", "required": ["task_id", "status"],
        "description": "The data of a `status` event of `GET /api/tasks/events`.",
        "properties": {
          "task_id": {"type": "string"},
          "status": {"type": "string", "enum": ["queued", "processing", "completed", "error", "cancelled", "not_found"]},
          "progress": {"type": ["string", "null"]},
          "result": {"type": ["string", "null"]},
          "error": {"type": ["string", "null"]}
        }
      },
      "TaskEventStreamEvent": {
        "type": "object", "required": ["event"],
        "description": "One event of `GET /api/tasks/events`, e.g. `event: status` / `data: {\"task_id\":\"0b6f2c1e\",\"status\":\"completed\",\"progress\":\"100\",\"result\":\"Bonjour\",\"error\":null}`.",
        "oneOf": [
          {"properties": {"event": {"const": "status"}, "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": {"$ref": "#/components/schemas/TaskEvent"}}}, "required": ["data"]},
          {"properties": {"event": {"const": "done"}}}
        ],
        "properties": {"event": {"type": "string", "enum": ["status", "done"]}, "data": {"type": "string"}, "id": {"type": "string"}, "retry": {"type": "integer"}}
      },
      "ChatCompletionStreamEvent": {
        "type": "object", "required": ["data"],
        "description": "One event of a streamed chat completion: a chunk, an error (the stream ended early), or the final `[DONE]`.",
        "properties": {
          "event": {"type": "string"},
          "id": {"type": "string"},
          "data": {
            "oneOf": [
              {"type": "string", "const": "[DONE]"},
              {"type": "string", "contentMediaType": "application/json", "contentSchema": {"oneOf": [{"$ref": "#/components/schemas/ChatCompletionChunk"}, {"$ref": "#/components/schemas/OpenAIError"}]}}
            ]
          }
        }
      },
      "ChatCompletionChunk": {
        "type": "object", "required": ["choices"],
        "properties": {
          "id": {"type": "string"},
          "object": {"type": "string", "const": "chat.completion.chunk"},
          "created": {"type": "integer"},
          "model": {"type": "string"},
          "choices": {
            "type": "array",
            "items": {
              "type": "object",
              "properties": {
                "index": {"type": "integer"},
                "delta": {"type": "object", "properties": {"role": {"type": "string"}, "content": {"type": ["string", "null"]}}},
                "finish_reason": {"type": ["string", "null"]}
              }
            }
          },
          "usage": {"oneOf": [{"$ref": "#/components/schemas/TokenUsage"}, {"type": "null"}]}
        }
      },
      "CancelResponse": {
        "type": "object", "required": ["id", "status"],
        "properties": {"id": {"type": "string"}, "status": {"type": "string", "const": "cancelled"}}
      },
      "QueueCounts": {
        "type": "object", "required": ["queued", "processing", "completed", "error", "cancelled"],
        "properties": {
          "queued": {"type": "integer"}, "processing": {"type": "integer"}, "completed": {"type": "integer"},
          "error": {"type": "integer"}, "cancelled": {"type": "integer"}
        }
      },
      "Stats": {
        "type": "object", "required": ["queue", "workers", "busy_workers", "tasks_processed"],
        "properties": {
          "queue": {"$ref": "#/components/schemas/QueueCounts"},
          "workers": {"type": "integer"},
          "busy_workers": {"type": "integer"},
          "tasks_processed": {"type": "integer", "description": "By this instance since it started."}
        }
      },
      "Instance": {
        "type": "object", "required": ["id", "workers_busy", "workers_total", "tasks_processed", "started_at", "last_seen"],
        "properties": {
          "id": {"type": "string"},
          "workers_busy": {"type": "integer"},
          "workers_total": {"type": "integer"},
          "tasks_processed": {"type": "integer"},
          "started_at": {"type": "string", "format": "date-time"},
          "last_seen": {"type": "string", "format": "date-time"}
        }
      },
      "Cluster": {
        "type": "object", "required": ["store", "instances", "queue"],
        "properties": {
          "store": {"type": "string", "enum": ["embedded", "redis"]},
          "instances": {"type": "array", "items": {"$ref": "#/components/schemas/Instance"}},
          "queue": {"$ref": "#/components/schemas/QueueCounts"}
        }
      },
      "CacheReport": {
        "type": "object", "required": ["enabled", "ttl_seconds", "hits", "misses", "coalesced", "bypassed", "entries", "bytes"],
        "properties": {
          "enabled": {"type": "boolean"},
          "ttl_seconds": {"type": "number"},
          "hits": {"type": "integer"}, "misses": {"type": "integer"}, "coalesced": {"type": "integer"},
          "bypassed": {"type": "integer"}, "entries": {"type": "integer"}, "bytes": {"type": "integer"}
        }
      },
      "Health": {
        "type": "object", "required": ["status"],
        "properties": {"status": {"type": "string", "const": "ok"}}
      },
      "ChatCompletionRequest": {
        "type": "object", "required": ["messages"],
        "description": "OpenAI's chat-completions body; fields not listed go upstream unchanged.",
        "properties": {
          "model": {"type": "string", "minLength": 1, "description": "Defaults to the server's model."},
          "messages": {
            "type": "array", "minItems": 1,
            "items": {
              "type": "object", "required": ["role"],
              "properties": {
                "role": {"type": "string"},
                "content": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}}, {"type": "null"}]}
              }
            }
          },
          "max_tokens": {"type": "integer", "format": "int64", "minimum": 1},
          "temperature": {"type": "number", "minimum": 0, "maximum": 2},
          "stream": {"type": ["boolean", "null"]},
          "cache": {"type": "boolean", "description": "Promptline's own: false bypasses the response cache. Not sent upstream."}
        }
      },
      "ChatCompletion": {
        "type": "object", "required": ["choices"],
        "properties": {
          "id": {"type": "string"},
          "object": {"type": "string", "const": "chat.completion"},
          "created": {"type": "integer"},
          "model": {"type": "string"},
          "choices": {
            "type": "array",
            "items": {
              "type": "object", "required": ["message"],
              "properties": {
                "index": {"type": "integer"},
                "message": {"type": "object", "properties": {"role": {"type": "string"}, "content": {"type": ["string", "null"]}}},
                "finish_reason": {"type": ["string", "null"]}
              }
            }
          },
          "usage": {"$ref": "#/components/schemas/TokenUsage"}
        }
      },
      "ModelList": {
        "type": "object", "required": ["data"],
        "properties": {
          "object": {"type": "string", "const": "list"},
          "data": {
            "type": "array",
            "items": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}, "object": {"type": "string"}, "created": {"type": "integer"}, "owned_by": {"type": "string"}}}
          }
        }
      },
      "FileUpload": {
        "type": "object", "required": ["purpose", "file"],
        "properties": {
          "purpose": {"type": "string", "const": "batch"},
          "file": {"type": "string", "contentMediaType": "application/jsonl", "description": "The JSONL input, one request per line."}
        }
      },
      "FileObject": {
        "type": "object", "required": ["id", "object", "bytes", "created_at", "filename", "purpose", "status"],
        "properties": {
          "id": {"type": "string"},
          "object": {"type": "string", "const": "file"},
          "bytes": {"type": "integer"},
          "created_at": {"type": "integer", "description": "Seconds since 1970."},
          "expires_at": {"type": ["integer", "null"]},
          "filename": {"type": "string"},
          "purpose": {"type": "string", "enum": ["batch", "batch_output", "batch_error"]},
          "status": {"type": "string"},
          "lines": {"type": ["integer", "null"], "description": "How many requests the file holds (Promptline's own field)."}
        }
      },
      "BatchCreateRequest": {
        "type": "object", "required": ["input_file_id", "endpoint", "completion_window"],
        "properties": {
          "input_file_id": {"type": "string"},
          "endpoint": {"type": "string", "const": "/v1/chat/completions"},
          "completion_window": {"type": "string", "const": "24h"},
          "metadata": {"type": ["object", "null"], "additionalProperties": {"type": "string"}}
        }
      },
      "Batch": {
        "type": "object",
        "required": ["id", "object", "endpoint", "errors", "input_file_id", "completion_window", "status", "output_file_id", "error_file_id", "created_at", "in_progress_at", "expires_at", "finalizing_at", "completed_at", "failed_at", "expired_at", "cancelling_at", "cancelled_at", "request_counts", "metadata"],
        "properties": {
          "id": {"type": "string"},
          "object": {"type": "string", "const": "batch"},
          "endpoint": {"type": "string"},
          "errors": {},
          "input_file_id": {"type": "string"},
          "completion_window": {"type": "string"},
          "status": {"type": "string", "enum": ["validating", "failed", "in_progress", "finalizing", "completed", "expired", "cancelling", "cancelled"]},
          "output_file_id": {"type": ["string", "null"]},
          "error_file_id": {"type": ["string", "null"]},
          "created_at": {"type": "integer"},
          "in_progress_at": {"type": ["integer", "null"]},
          "expires_at": {"type": ["integer", "null"]},
          "finalizing_at": {"type": ["integer", "null"]},
          "completed_at": {"type": ["integer", "null"]},
          "failed_at": {"type": ["integer", "null"]},
          "expired_at": {"type": ["integer", "null"]},
          "cancelling_at": {"type": ["integer", "null"]},
          "cancelled_at": {"type": ["integer", "null"]},
          "request_counts": {
            "type": "object", "required": ["total", "completed", "failed"],
            "properties": {"total": {"type": "integer"}, "completed": {"type": "integer"}, "failed": {"type": "integer"}}
          },
          "metadata": {"type": ["object", "null"], "additionalProperties": {"type": "string"}}
        }
      },
      "BatchList": {
        "type": "object", "required": ["object", "data", "has_more"],
        "properties": {
          "object": {"type": "string", "const": "list"},
          "data": {"type": "array", "items": {"$ref": "#/components/schemas/Batch"}},
          "first_id": {"type": "string", "description": "Absent on an empty page."},
          "last_id": {"type": "string", "description": "Absent on an empty page; pass it as `after` for the next page."},
          "has_more": {"type": "boolean"}
        }
      },
      "BatchResultLine": {
        "type": "object", "required": ["id", "custom_id", "response", "error"],
        "description": "One line of a batch's output or error file.",
        "properties": {
          "id": {"type": "string"},
          "custom_id": {"type": ["string", "null"]},
          "response": {
            "oneOf": [{"type": "null"}, {
              "type": "object", "required": ["status_code", "request_id", "body"],
              "properties": {"status_code": {"type": "integer"}, "request_id": {"type": "string"}, "body": {"$ref": "#/components/schemas/ChatCompletion"}}
            }]
          },
          "error": {
            "oneOf": [{"type": "null"}, {
              "type": "object", "required": ["code", "message"],
              "properties": {"code": {"type": "string", "enum": ["request_failed", "batch_cancelled", "batch_expired", "expired_result"]}, "message": {"type": "string"}}
            }]
          }
        }
      }
    }
  }
}
"""#
}
