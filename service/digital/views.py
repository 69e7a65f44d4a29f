"""Pages of the digital path: the cell secretary answers a sheet online (signed in or with a
one-time code); the committee issues and revokes codes."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import db
from ..auth import current
from ..errors import ServiceError
from ..api_schema import int_arg, year_arg
from ..models import AnswerCode, Evaluation, Member, Organisation
from ..permissions import can_write, get_member, scope_members
from ..scans.decide import items_of
from ..web import flashed_errors
from . import answers, codes

bp = Blueprint("digital", __name__, url_prefix="/tra-loi")
SESSION_KEY = "answer_codes"  # sheet serial -> code id checked in this browser session


def _sheet(serial: str) -> Evaluation:
    ev = db.session().scalar(select(Evaluation).where(Evaluation.sheet_serial == serial.strip().upper()))
    if ev is None:
        abort(404)
    return ev


def _signed_in_user():
    return current() if current_user.is_authenticated else None


def _held_code(ev: Evaluation):
    code_id = (session.get(SESSION_KEY) or {}).get(ev.sheet_serial)
    return codes.live_code(db.session(), code_id, ev)


@bp.route("/", methods=["GET", "POST"])
def enter():
    """Sheet number + one-time code (the code is printed in the letter sent with the packet)."""
    serial = (request.values.get("serial") or "").strip().upper()[:40]
    if request.method == "POST":
        sess = db.session()
        try:
            row = codes.check(sess, serial, request.form.get("code", ""))
        except ServiceError as err:
            flash(err.message, "error")
            return render_template("digital/enter.html", serial=serial), err.status
        held = dict(session.get(SESSION_KEY) or {})
        held[row.evaluation.sheet_serial] = row.id
        session[SESSION_KEY] = held
        return redirect(url_for("digital.sheet", serial=row.evaluation.sheet_serial))
    return render_template("digital/enter.html", serial=serial)


@bp.route("/qr")
def from_qr():
    """Where a sheet's QR leads when it is printed as a link (``QR_LINK_BASE``): the sheet's answer page."""
    from forms import qrpayload
    from ..qrkeys import keyring
    try:
        payload = qrpayload.verify(request.args.get("c", ""), keyring())
    except qrpayload.InvalidPayloadError as exc:
        raise ServiceError("invalid_qr", f"Mã QR không hợp lệ: {exc.message_vi}.", status=404)
    if payload.kind != "evaluation_sheet":
        raise ServiceError("invalid_qr", "Mã QR này không phải của phiếu nhận xét.", status=404)
    return redirect(url_for("digital.sheet", serial=payload.sheet_serial))


@bp.route("/<serial>", methods=["GET", "POST"])
def sheet(serial: str):
    """The sheet's items, to answer online; the same checks as a scanned page."""
    sess = db.session()
    ev = _sheet(serial)
    user = _signed_in_user()
    if user is not None and answers.may_answer(sess, user, ev):
        code = None  # answered as the signed-in user
    else:
        user, code = None, _held_code(ev)
        if code is None:
            if current_user.is_authenticated:  # signed in, not allowed, no code: refused
                raise ServiceError("forbidden", "Tài khoản của đồng chí không trả lời được phiếu này. Nếu có mã trả "
                                   "lời, hãy đăng xuất hoặc mở trang nhập mã.", status=403)
            return redirect(url_for("digital.enter", serial=ev.sheet_serial))
    items = items_of(sess, ev)
    given = {k[2:]: v for k, v in request.form.items() if k.startswith("a_") and v}
    if request.method == "POST":
        with flashed_errors(sess, reraise=(403,)) as failed:
            page = answers.submit(sess, ev, given, request.form.get("other_remarks"), user=user, code=code)
        if failed:
            return render_template("digital/sheet.html", ev=ev, items=items, given=given,
                                   remark=request.form.get("other_remarks", "")), failed.status
        if code is not None:
            held = dict(session.get(SESSION_KEY) or {})
            held.pop(ev.sheet_serial, None)
            session[SESSION_KEY] = held
        return render_template("digital/done.html", ev=ev, page=page, message=answers.outcome_message(page))
    return render_template("digital/sheet.html", ev=ev, items=items, given=dict(ev.answers or {}) if ev.status != "returned" else {},
                           remark="")


@bp.route("/ma-chi-bo", methods=["GET", "POST"])
@login_required
def cell_codes():
    """Codes for every open sheet of one residence cell, printed once to go with the cell's packet."""
    sess, user = db.session(), current()
    year = year_arg(request.values) or dt.date.today().year
    cells = sess.scalars(select(Organisation).where(Organisation.id.in_(
        scope_members(sess, user, select(Member.residence_cell_id)).where(Member.residence_cell_id.is_not(None))))
        .order_by(Organisation.search_name)).all()
    issued = None
    if request.method == "POST":
        cell = next((c for c in cells if c.id == int_arg(request.form, "cell_id")), None)
        with flashed_errors(sess, reraise=()):
            if cell is None:
                raise ServiceError("cell_required", "Chọn chi bộ nơi cư trú trong danh sách.", {"field": "cell_id"})
            issued = (cell, [(ev, codes.display(code)) for ev, code in codes.issue_for_cell(sess, user, cell.id, year)])
    return render_template("digital/cell_codes.html", cells=cells, year=year, issued=issued,
                           link=url_for("digital.enter", _external=True))


@bp.route("/<serial>/ma", methods=["GET", "POST"])
@login_required
def code_admin(serial: str):
    """The committee's page for a sheet's one-time answer code: issue (shown once), list, revoke."""
    sess, user = db.session(), current()
    ev = _sheet(serial)
    get_member(sess, user, ev.member_id)  # 404/403 when the member is not visible
    new_code = None
    if request.method == "POST":
        with flashed_errors(sess, reraise=(403,)):
            if request.form.get("revoke"):
                row = sess.get(AnswerCode, int(request.form["revoke"])) if request.form["revoke"].isdigit() else None
                if row is None or row.evaluation_id != ev.id:
                    abort(404)
                codes.revoke(sess, user, row)
                flash("Đã thu hồi mã trả lời.", "info")
            else:
                new_code = codes.display(codes.issue(sess, user, ev))
    return render_template("digital/code.html", ev=ev, rows=codes.codes_of(sess, ev), new_code=new_code,
                           link=url_for("digital.enter", serial=ev.sheet_serial, _external=True),
                           can_issue=can_write(sess, user, ev.member, "return"))
