"""The Python client against the real server binary (run by .ci/python-client)."""
import json
import os
import pathlib
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import dialogwatch_client

REPO = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("DIALOGWATCH_BIN", str(REPO / "target" / "debug" / "dialogwatch"))
DEV = REPO.parent / "shared" / "corpus" / "dev"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.data_dir = tempfile.TemporaryDirectory()
        self.port = free_port()
        self.server = subprocess.Popen(
            [BINARY, "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir", self.data_dir.name,
             "--workers", "1", "--metrics-listen", "off"],
            env={**os.environ, "DIALOGWATCH_LOG": "warn"},
        )
        deadline = time.time() + 60
        while subprocess.run([BINARY, "health", "--server", f"http://127.0.0.1:{self.port}"],
                             capture_output=True).returncode != 0:
            self.assertLess(time.time(), deadline, "server never became healthy")
            time.sleep(0.1)
        self.client = dialogwatch_client.Client(f"127.0.0.1:{self.port}")

    def tearDown(self):
        self.client.close()
        if self.server.poll() is None:
            self.server.kill()
            self.server.wait()
        self.data_dir.cleanup()

    def test_submit_and_watch_a_dev_article(self):
        gold_path = sorted(DEV.glob("*.gold.json"))[1]
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        text = (DEV / gold["file"]).read_text(encoding="utf-8")
        article_id, created = self.client.submit(text=text)
        self.assertTrue(created)
        self.assertEqual(self.client.submit(text=text), (article_id, False))

        wanted_partner = next(e["partner"] for e in gold["events"] if e["primary"])
        for event in self.client.watch(from_sequence=0, timeout=60):
            self.assertEqual(event.type, dialogwatch_client.dialogues_pb2.FEED_EVENT_TYPE_CREATED)
            self.assertGreater(event.sequence, 0)
            self.assertEqual(event.dialogue.event.partner.code, wanted_partner)
            self.assertIn(article_id, [source.article_id for source in event.dialogue.sources])
            break

        self.server.send_signal(signal.SIGTERM)
        self.assertEqual(self.server.wait(timeout=60), 0, "clean exit on SIGTERM")


if __name__ == "__main__":
    unittest.main()
