"""Command ``send-digest``: e-mail each listed user what needs them now (the home page's lists).

SMTP server from the settings ``NOICUTRU_SMTP_HOST`` (required), ``NOICUTRU_SMTP_PORT`` (25),
``NOICUTRU_SMTP_FROM``, ``NOICUTRU_SMTP_USER`` / ``NOICUTRU_SMTP_PASSWORD`` (optional) and
``NOICUTRU_SMTP_STARTTLS`` (1 to use STARTTLS). Recipients: ``--to username=address`` (repeatable)
or the setting ``NOICUTRU_DIGEST_RECIPIENTS`` ("thue=a@example.vn,bithu1=b@example.vn")."""
from __future__ import annotations

import os
import smtplib
from email.message import EmailMessage

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import db
from ..users.cli import user_named
from .home import digest_text, needs


def setting(name: str, default: str = "") -> str:
    return str(current_app.config.get(name) or os.environ.get(f"NOICUTRU_{name}") or default)


def parse_recipients(values) -> list[tuple[str, str]]:
    out = []
    for value in values:
        for part in value.split(","):
            if not part.strip():
                continue
            name, sep, address = part.partition("=")
            if not sep or "@" not in address:
                raise click.ClickException(f"Người nhận «{part.strip()}» không hợp lệ: ghi theo dạng tên_đăng_nhập=địa_chỉ_thư.")
            out.append((name.strip(), address.strip()))
    return out


@click.command("send-digest")
@click.option("--to", "recipients", multiple=True, help="tên_đăng_nhập=địa_chỉ_thư (lặp lại được).")
@with_appcontext
def send_digest_cmd(recipients):
    """E-mail each recipient the list of what needs them now."""
    pairs = parse_recipients(recipients or [setting("DIGEST_RECIPIENTS")])
    if not pairs:
        raise click.ClickException("Chưa có người nhận: dùng --to tên_đăng_nhập=địa_chỉ hoặc NOICUTRU_DIGEST_RECIPIENTS.")
    host = setting("SMTP_HOST")
    if not host:
        raise click.ClickException("Chưa cấu hình máy chủ thư (NOICUTRU_SMTP_HOST).")
    sess = db.session()
    users = [(user_named(sess, name), address) for name, address in pairs]
    sender = setting("SMTP_FROM", "noicutru@localhost")
    with smtplib.SMTP(host, int(setting("SMTP_PORT", "25")), timeout=30) as smtp:
        if setting("SMTP_STARTTLS") == "1":
            smtp.starttls()
        if setting("SMTP_USER"):
            smtp.login(setting("SMTP_USER"), setting("SMTP_PASSWORD"))
        for user, address in users:
            msg = EmailMessage()
            msg["Subject"] = "Nối cư trú: việc đang chờ đồng chí"
            msg["From"], msg["To"] = sender, address
            msg.set_content(digest_text(user, needs(sess, user), setting("BASE_URL")))
            smtp.send_message(msg)
            click.echo(f"Đã gửi cho {user.username} <{address}>.")


COMMANDS = [send_digest_cmd]
