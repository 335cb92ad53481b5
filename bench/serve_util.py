"""What the serve benchmarks (serve_batch.py, serve_compare.py) share: starting
`uma serve` on a free port, and reading an OpenAI-style event stream."""
import json
import subprocess


def start_uma_serve(cmd, env=None):
    """Runs `cmd` (a `uma serve ... --port 0` command line); returns the process
    and the port it printed on its first line ("... http://127.0.0.1:PORT ...")."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    line = p.stdout.readline()
    return p, int(line.split("127.0.0.1:")[1].split()[0].strip(")"))


def sse_events(response):
    """The JSON objects of a streamed response's `data:` lines, up to [DONE]."""
    for raw in response:
        line = raw.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        yield json.loads(line[6:])
