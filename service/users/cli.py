"""Commands of user accounts: ``create-admin``, ``create-token``; and ``user_named`` for every command run as a user."""
from __future__ import annotations

import getpass

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from .. import db
from ..errors import ServiceError
from ..models import User


def user_named(sess, username: str) -> User:
    """The user a command acts as, or a clear error."""
    user = sess.scalar(select(User).where(User.username == username.lower()))
    if user is None:
        raise click.ClickException(f"Không có người dùng {username}.")
    return user


@click.command("create-admin")
@click.argument("username")
@click.option("--full-name", default="")
@click.option("--password", envvar="NOICUTRU_ADMIN_PASSWORD", help="Or set NOICUTRU_ADMIN_PASSWORD; asked if absent.")
@with_appcontext
def create_admin_cmd(username, full_name, password):
    """Create an administrator (the only way to get the first one outside demo mode)."""
    from .admin import create_user
    if not password:
        password = getpass.getpass("Mật khẩu: ")
    try:
        user = create_user(db.session(), username, password, "admin", None, full_name)
    except ServiceError as err:
        raise click.ClickException(err.message)
    click.echo(f"Đã tạo quản trị viên {user.username}.")


@click.command("create-token")
@click.argument("username")
@click.option("--name", default="API")
@click.option("--days", type=int, default=None, help="Lifetime in days (default NOICUTRU_TOKEN_DAYS, 90).")
@with_appcontext
def create_token_cmd(username, name, days):
    """Print a new API token for USERNAME."""
    from ..auth import new_api_token
    sess = db.session()
    user = user_named(sess, username)
    try:
        token, _row = new_api_token(sess, user, name, days)
    except ServiceError as err:
        raise click.ClickException(err.message) from None
    sess.commit()
    click.echo(token)


COMMANDS = [create_admin_cmd, create_token_cmd]
