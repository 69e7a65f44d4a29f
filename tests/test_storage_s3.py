"""NOICUTRU_STORAGE_URL=s3://…: the same store, read and backup operations as the folder store,
against a local S3-compatible server (moto's server mode on a free 127.0.0.1 port)."""
from __future__ import annotations

import hashlib
import os

import pytest

from tests.support.instances import fill, make_instance, run, snapshot
from tests.support.services import free_port

from service import db, storage


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_endpoint, monkeypatch, request):
    """A fresh bucket on the local server; the usual AWS variables point boto3 at it."""
    import boto3
    for name, value in (("AWS_ENDPOINT_URL", s3_endpoint), ("AWS_ACCESS_KEY_ID", "testing"),
                        ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    bucket = "noicutru-" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:12]
    client.create_bucket(Bucket=bucket)
    return client, bucket


def test_files_are_stored_read_and_listed_in_the_bucket(tmp_path, s3):
    client, bucket = s3
    app = make_instance(tmp_path, "s3", None, STORAGE_URL=f"s3://{bucket}/tinh-qn")
    big = os.urandom(5 << 20)  # above boto3's multipart threshold (8 MB is the default; 5 MB parts)
    src = tmp_path / "lon.bin"
    src.write_bytes(big * 2)
    with app.app_context():
        sess = db.session()
        small = storage.save(sess, "Phiếu nhận xét".encode(), "nx.txt")
        again = storage.save(sess, "Phiếu nhận xét".encode(), "nx-2.txt")  # same content: one object
        large = storage.save_path(sess, str(src), "lon.bin")
        sess.commit()
        keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"])
        assert keys == sorted(f"tinh-qn/{r.sha256[:2]}/{r.sha256}" for r in (small, large))
        assert small.sha256 == again.sha256
        assert storage.read(small) == "Phiếu nhận xét".encode()
        assert storage.path_of(large).read_bytes() == big * 2  # a local copy for LibreOffice/OCR
        assert storage.list_shas() == sorted({small.sha256, large.sha256})
        assert storage.has_sha(large.sha256) and not storage.has_sha("0" * 64)
        # nothing was written into the storage folder but the local copy of the large file
        local = [p for p in (tmp_path / "s3" / "storage").rglob("*") if p.is_file()]
        assert [p.name for p in local] == [large.sha256]
        db.engine().dispose()


def test_an_s3_instance_backs_up_and_restores_into_folder_and_s3_instances(tmp_path, s3):
    client, bucket = s3
    source = make_instance(tmp_path, "source", None, STORAGE_URL=f"s3://{bucket}/nguon")
    fill(source)
    before = snapshot(source)
    assert before["files"]
    archive = tmp_path / "s3.tar"
    out = run(source, "backup", str(archive))
    assert out.exit_code == 0, out.output
    into_folder = make_instance(tmp_path, "folder", None)
    assert run(into_folder, "restore", str(archive)).exit_code == 0
    assert snapshot(into_folder) == before
    other = "noicutru-dich-" + bucket[-6:]
    client.create_bucket(Bucket=other)
    into_s3 = make_instance(tmp_path, "s3target", None, STORAGE_URL=f"s3://{other}")
    out = run(into_s3, "restore", str(archive))
    assert out.exit_code == 0, out.output
    assert snapshot(into_s3) == before
    assert len(client.list_objects_v2(Bucket=other)["Contents"]) == len(before["files"])
