"""A small Python client of dialogwatch: submit articles, watch the feed.

Stubs are generated from ../../proto into ./generated (see generate_stubs);
`python -m grpc_tools.protoc` comes from the grpcio-tools package.
"""
import os
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
PROTO_ROOT = HERE.parent.parent / "proto"
GENERATED = HERE / "generated"


def generate_stubs():
    """(Re)generates the Python stubs of every proto file into ./generated."""
    GENERATED.mkdir(exist_ok=True)
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO_ROOT}",
         f"--python_out={GENERATED}", f"--grpc_python_out={GENERATED}", *protos],
        check=True,
    )


if not (GENERATED / "dialogwatch" / "v1" / "articles_pb2.py").exists():
    generate_stubs()
sys.path.insert(0, str(GENERATED))

import grpc  # noqa: E402
from dialogwatch.v1 import articles_pb2, articles_pb2_grpc  # noqa: E402
from dialogwatch.v1 import dialogues_pb2, dialogues_pb2_grpc  # noqa: E402
from dialogwatch.v1 import records_pb2  # noqa: E402


class Client:
    """Talks to one dialogwatch server."""

    def __init__(self, target="127.0.0.1:50051", token=None):
        self.channel = grpc.insecure_channel(target)
        self.metadata = [("authorization", f"Bearer {token}")] if token else []
        self.articles = articles_pb2_grpc.ArticleServiceStub(self.channel)
        self.dialogues = dialogues_pb2_grpc.DialogueServiceStub(self.channel)

    def submit(self, text=None, html=None, url=None, published_at=None, request_id=""):
        """Submits one article; returns (article_id, created)."""
        content = articles_pb2.ArticleContent(url=url, published_at=published_at)
        if html is not None:
            content.html = html
        else:
            content.text = text
        response = self.articles.SubmitArticle(
            articles_pb2.SubmitArticleRequest(request_id=request_id, article=content),
            metadata=self.metadata,
        )
        return response.article_id, response.created

    def article(self, article_id):
        """The article's processing state."""
        return self.articles.GetArticle(
            articles_pb2.GetArticleRequest(article_id=article_id), metadata=self.metadata
        )

    def watch(self, from_sequence=0, partners=(), timeout=None):
        """Yields feed events after `from_sequence` (backlog, then live)."""
        request = dialogues_pb2.WatchDialoguesRequest(
            from_sequence=from_sequence,
            filter=records_pb2.DialogueFilter(partners=list(partners)),
        )
        yield from self.dialogues.WatchDialogues(request, metadata=self.metadata, timeout=timeout)

    def close(self):
        self.channel.close()


if __name__ == "__main__":
    client = Client(os.environ.get("DIALOGWATCH_TARGET", "127.0.0.1:50051"))
    for path in sys.argv[1:]:
        print(path, *client.submit(text=pathlib.Path(path).read_text(encoding="utf-8")))
