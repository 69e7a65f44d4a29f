"""One error type for the whole service: a stable code for the API, a Vietnamese message for people."""
from __future__ import annotations

from typing import Any, Optional

from flask import Flask, flash, jsonify, redirect, render_template, request
from werkzeug.exceptions import HTTPException


class ServiceError(Exception):
    status = 400

    def __init__(self, code: str, message: str, details: Any = None, status: Optional[int] = None,
                 headers: Optional[dict[str, str]] = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}  # e.g. Retry-After on 429
        if status is not None:
            self.status = status

    def to_dict(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class NotFound(ServiceError):
    def __init__(self, what: str = "Không tìm thấy dữ liệu yêu cầu."):
        super().__init__("not_found", what, status=404)


class Forbidden(ServiceError):
    def __init__(self, message: str = "Bạn không có quyền truy cập dữ liệu này."):
        super().__init__("forbidden", message, status=403)


HTTP_MESSAGES = {
    400: ("bad_request", "Yêu cầu không hợp lệ."),
    401: ("unauthorized", "Cần đăng nhập."),
    403: ("forbidden", "Bạn không có quyền truy cập dữ liệu này."),
    404: ("not_found", "Không tìm thấy trang hoặc dữ liệu yêu cầu."),
    405: ("method_not_allowed", "Phương thức không được hỗ trợ."),
    413: ("file_too_large", "Tệp tải lên vượt quá dung lượng cho phép."),
    429: ("too_many_requests", "Quá nhiều yêu cầu, vui lòng thử lại sau."),
    500: ("internal_error", "Lỗi hệ thống. Vui lòng thử lại hoặc báo quản trị viên."),
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service_error(err: ServiceError):
        if wants_json():
            return jsonify(err.to_dict()), err.status, err.headers
        if err.status in (401, 403, 404, 429):
            return render_template("error.html", code=err.status, message=err.message), err.status, err.headers
        flash(err.message, "error")
        return redirect(request.referrer or "/")

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        code, message = HTTP_MESSAGES.get(err.code or 500, ("http_error", err.description or ""))
        if err.code == 400 and "CSRF" in (err.description or ""):
            code, message = "csrf_failed", "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Vui lòng tải lại trang."
        if wants_json():
            return jsonify({"error": {"code": code, "message": message, "details": None}}), err.code
        return render_template("error.html", code=err.code, message=message), err.code

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        """Last resort: any other exception is logged and answered 500 without a traceback."""
        if isinstance(err, HTTPException):
            return _http_error(err)
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        try:
            from . import db
            db.session().rollback()
        except Exception:  # the database itself may be what failed
            pass
        code, message = HTTP_MESSAGES[500]
        if wants_json():
            return jsonify({"error": {"code": code, "message": message, "details": None}}), 500
        return render_template("error.html", code=500, message=message), 500
