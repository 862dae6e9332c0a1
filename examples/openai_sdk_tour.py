"""The official OpenAI SDK against Promptline: chat, streaming and a batch.

Start `promptline mock-upstream --port 9100` and
`promptline serve --upstream-url http://127.0.0.1:9100/v1`, then run this (pip install openai).
"""
import json, time
from openai import OpenAI

client = OpenAI(base_url="http://127.0.0.1:8000/v1", api_key="unused")

# Chat, plain and streamed
answer = client.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hello"}])
print(answer.choices[0].message.content)
for chunk in client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Stream this"}], stream=True):
    if chunk.choices and chunk.choices[0].delta.content:
        print(repr(chunk.choices[0].delta.content), end=" ")
print()

# A batch: upload, create, poll, download
lines = [json.dumps({"custom_id": f"q{i}", "method": "POST", "url": "/v1/chat/completions",
                     "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Question {i}"}]}})
         for i in range(500)]
upload = client.files.create(file=("questions.jsonl", "\n".join(lines).encode()), purpose="batch")
batch = client.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h")
while batch.status not in ("completed", "failed", "expired", "cancelled"):
    time.sleep(0.5)
    batch = client.batches.retrieve(batch.id)
print(batch.status, batch.request_counts)
first = json.loads(client.files.content(batch.output_file_id).text.splitlines()[0])
print(first["custom_id"], "->", first["response"]["body"]["choices"][0]["message"]["content"])
