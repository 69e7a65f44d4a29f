"""Help: a short guide per role (introduce -> meetings -> year-end sheets -> scans -> rating) and one line
of help on every page (by endpoint; a page without its own line points to the guide)."""
from __future__ import annotations

from flask import Blueprint, Flask, render_template, request
from flask_login import login_required

from .auth import current
from .models import ROLES

bp = Blueprint("guide", __name__, url_prefix="/help")

# One line per page: what the page is for and what to do next.
HELP_LINES = {
    "web.index": "Tổng quan số đảng viên trong phạm vi của bạn và các công việc gần đây.",
    "members.index": "Tìm đảng viên theo tên (gõ có dấu hoặc không dấu), số thẻ hoặc số điện thoại; bấm tên để "
                     "xem hồ sơ, in giấy giới thiệu và phiếu nhận xét.",
    "members.detail": "Hồ sơ một đảng viên: giấy giới thiệu, các buổi sinh hoạt, phiếu nhận xét hằng năm và "
                      "lịch sử thay đổi.",
    "members.new": "Nhập ngày theo dạng ngày/tháng/năm (ví dụ 02/09/1985) hoặc chọn trên lịch; "
                   "các ô có dấu * là bắt buộc.",
    "members.edit": "Sửa xong bấm Lưu; nếu một ô sai, các ô khác vẫn giữ nguyên những gì bạn đã gõ.",
    "organisations.index": "Cây tổ chức đảng: đảng ủy nơi công tác, đảng ủy xã/phường và chi bộ nơi cư trú.",
    "organisations.detail": "Thông tin in trên văn bản (tên cơ quan cấp trên, địa danh, người ký) lấy từ đây.",
    "imports.upload": "Tải lên danh sách đảng viên (Excel .xlsx); hệ thống cho xem trước, chưa ghi gì cho đến "
                      "khi bạn xác nhận.",
    "imports.mapping": "Ghép mỗi cột của tệp Excel với thông tin tương ứng; cột không dùng để trống.",
    "imports.preview": "Kiểm tra các dòng sẽ thêm, sửa hoặc bị loại trước khi xác nhận nhập.",
    "jobs.index": "Các công việc chạy nền (trộn văn bản, đọc bản quét, nhập Excel) và tiến độ của chúng.",
    "jobs.detail": "Trang tự cập nhật tiến độ; khi xong, tải kết quả ở đây.",
    "users.index": "Tạo tài khoản cho cán bộ đảng ủy và bí thư chi bộ; mỗi người chỉ thấy đảng viên trong "
                   "phạm vi tổ chức của mình.",
    "users.edit": "Đổi vai trò, tổ chức hoặc khóa tài khoản.",
    "documents.index": "Trộn hàng loạt giấy giới thiệu hoặc phiếu nhận xét: chọn tổ chức hoặc gõ tên, số thẻ "
                       "đảng viên; xem số lượng trước khi bắt đầu.",
    "documents.templates": "Mẫu văn bản đang dùng; tải lên phiên bản mới khi mẫu chính thức thay đổi.",
    "scans.index": "Tải lên các phiếu nhận xét đã ký, đóng dấu (PDF, ảnh chụp); trang đọc chắc chắn được cập "
                   "nhật tự động, trang khác chờ duyệt.",
    "scans.batch": "Kết quả đọc từng trang của lô; bấm vào trang để duyệt.",
    "scans.page": "So ảnh phiếu với các mục bên phải, sửa ô được chọn nếu máy đọc sai rồi bấm Cập nhật.",
    "transcriptions.queue": "Gõ lại phần «Nhận xét khác» viết tay theo ảnh cắt từ phiếu.",
    "meetings.index": "Ghi buổi sinh hoạt của chi bộ rồi điểm danh; danh sách cuối trang nêu người vắng không "
                      "có lý do trong năm.",
    "meetings.detail": "Chọn có mặt, vắng có lý do hoặc vắng không lý do cho từng người rồi bấm Lưu.",
    "account.index": "Đổi mật khẩu và quản lý mã API của bạn.",
    "guide.index": "Làm theo thứ tự các bước; mỗi trang đều có một dòng hướng dẫn như dòng này.",
}
DEFAULT_LINE = "Cần giúp đỡ? Xem hướng dẫn sử dụng theo vai trò của bạn."

# The guide of each role: (title, what to do, page endpoint or None), in the order of the year's work.
GUIDES = {
    "workplace_staff": [
        ("Giới thiệu đảng viên về nơi cư trú", "Nhập danh sách đảng viên từ Excel (Nhập Excel) hoặc thêm từng "
         "người (Đảng viên), rồi in giấy giới thiệu: từng người trên trang hồ sơ, hoặc hàng loạt ở Trộn văn bản. "
         "Khi chi bộ nơi cư trú gửi lại phần phiếu báo tiếp nhận, ghi nhận ngày tiếp nhận.", "documents.index"),
        ("Theo dõi sinh hoạt nơi cư trú", "Bí thư chi bộ ghi các buổi sinh hoạt và điểm danh; bạn xem ở trang "
         "Sinh hoạt danh sách đảng viên vắng không có lý do.", None),
        ("Phiếu nhận xét cuối năm", "Ở Trộn văn bản, chọn «Phiếu nhận xét», năm và tổ chức (hoặc gõ tên, số thẻ "
         "đảng viên), xem số phiếu sẽ tạo rồi bắt đầu; tải tệp ZIP ở trang Công việc và gửi về chi bộ nơi cư "
         "trú.", "documents.index"),
        ("Bản quét phiếu trả về", "Quét hoặc chụp các phiếu đã ký, đóng dấu và tải lên ở Bản quét. Trang đọc "
         "chắc chắn được cập nhật tự động; trang khác chờ bạn duyệt: so ảnh, sửa ô nếu cần, bấm Cập nhật.",
         "scans.index"),
        ("Đánh giá, xếp loại", "Khi đánh giá, xếp loại đảng viên, dùng nhận xét của chi bộ nơi cư trú trên hồ sơ "
         "từng người và danh sách vắng sinh hoạt không lý do.", "members.index"),
    ],
    "cell_secretary": [
        ("Tiếp nhận đảng viên được giới thiệu", "Khi nhận giấy giới thiệu, tìm đảng viên ở trang Đảng viên và "
         "ghi nhận ngày tiếp nhận; gửi lại phiếu báo tiếp nhận cho đảng ủy nơi công tác.", "members.index"),
        ("Sinh hoạt nơi cư trú", "Sau mỗi buổi sinh hoạt, ở trang Sinh hoạt thêm buổi họp (ngày theo dạng "
         "ngày/tháng/năm hoặc chọn trên lịch) rồi điểm danh từng người: có mặt, vắng có lý do, vắng không lý "
         "do.", "meetings.index"),
        ("Phiếu nhận xét cuối năm", "Nhận phiếu in sẵn từ đảng ủy nơi công tác, chi ủy đánh dấu một ô ở mỗi mục, "
         "ghi nhận xét khác nếu có, bí thư ký; trình đảng ủy xã, phường xác nhận, đóng dấu.", None),
        ("Bản quét phiếu", "Nếu được giao, quét các phiếu đã ký và tải lên ở Bản quét; duyệt các trang máy đọc "
         "chưa chắc chắn.", "scans.index"),
        ("Đánh giá, xếp loại", "Đảng ủy nơi công tác dùng nhận xét của chi bộ khi xếp loại; bạn xem lại các phiếu "
         "đã cập nhật trên hồ sơ từng đảng viên.", "members.index"),
    ],
}
GUIDES["admin"] = [
    ("Chuẩn bị", "Tạo cây tổ chức (Tổ chức đảng), tài khoản cho cán bộ đảng ủy và bí thư chi bộ (Người dùng), "
     "kiểm tra mẫu văn bản (Mẫu văn bản).", "users.index"),
    *GUIDES["workplace_staff"],
]


@bp.route("/")
@login_required
def index():
    user = current()
    role = request.args.get("role") if request.args.get("role") in GUIDES else user.role
    return render_template("guide.html", role=role, steps=GUIDES.get(role, GUIDES["admin"]), roles=ROLES)


def help_line() -> dict:
    endpoint = request.endpoint or ""
    return {"help_line": HELP_LINES.get(endpoint, DEFAULT_LINE), "help_is_guide": endpoint == "guide.index"}


def init_app(app: Flask) -> None:
    app.context_processor(help_line)
