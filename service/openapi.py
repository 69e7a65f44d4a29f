"""The OpenAPI 3.1 description served at /api/openapi.json."""
from __future__ import annotations

ERROR = {"$ref": "#/components/schemas/Error"}


def _op(summary: str, *, params=None, body=None, ok=200, ok_schema=None, errors=(400, 401, 403, 404), binary=False,
        multipart=False) -> dict:
    op: dict = {"summary": summary, "responses": {}}
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if multipart:
        op["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "properties": {"file": {"type": "string", "format": "binary"}}, "required": ["file"]}}}}
    if binary:
        op["responses"][str(ok)] = {"description": "OK", "content": {
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}}}}
    else:
        op["responses"][str(ok)] = {"description": "OK", "content": {"application/json": {"schema": ok_schema or {"type": "object"}}}}
    for code in errors:
        op["responses"][str(code)] = {"description": "Lỗi", "content": {"application/json": {"schema": ERROR}}}
    return op


def _path_id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


FILTERS = [
    {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "Tìm theo họ tên (không phân biệt dấu, hoa thường), số thẻ, điện thoại"},
    {"name": "workplace_org_id", "in": "query", "schema": {"type": "integer"}},
    {"name": "residence_cell_id", "in": "query", "schema": {"type": "integer"}},
    {"name": "ward_id", "in": "query", "schema": {"type": "integer"}},
    {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["active", "exempt_meetings", "exempt_introduction", "transferred", "left"]}},
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
]

FORMAT = {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["docx", "pdf", "png"]}}

MEMBER_PROPS = {
    "full_name": {"type": "string"}, "card_number": {"type": "string"},
    "date_of_birth": {"type": "string", "description": "dd/mm/yyyy hoặc yyyy-mm-dd"},
    "gender": {"type": "string", "enum": ["male", "female"]},
    "admission_date": {"type": "string"}, "full_member_date": {"type": "string"},
    "workplace_org_id": {"type": "integer"}, "residence_cell_id": {"type": "integer"},
    "party_position": {"type": "string"}, "government_position": {"type": "string"}, "mass_org_position": {"type": "string"},
    "house": {"type": "string"}, "residential_group": {"type": "string"}, "neighbourhood": {"type": "string"},
    "commune": {"type": "string"}, "province": {"type": "string"}, "phone": {"type": "string"},
    "status": {"type": "string"}, "notes": {"type": "string"},
}


def spec() -> dict:
    member = {"$ref": "#/components/schemas/Member"}
    job = {"$ref": "#/components/schemas/Job"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "noicutru API", "version": "1",
                 "description": "Sổ theo dõi đảng viên đang công tác giữ mối liên hệ với nơi cư trú (Quy định 213-QĐ/TW)."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "Mã truy cập tạo ở trang người dùng hoặc POST /api/tokens"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                            "description": "Phiên đăng nhập của trang web; yêu cầu ghi cần thêm tiêu đề X-CSRFToken"},
            },
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                    "code": {"type": "string", "description": "Mã lỗi ổn định, ví dụ not_xlsx, no_header, forbidden"},
                    "message": {"type": "string", "description": "Thông báo tiếng Việt"},
                    "details": {}}}}},
                "Member": {"type": "object", "properties": {"id": {"type": "integer"}, **MEMBER_PROPS,
                                                            "status_label": {"type": "string"}, "residence_address": {"type": "string"}}},
                "MemberInput": {"type": "object", "properties": MEMBER_PROPS},
                "Organisation": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                                                  "kind": {"type": "string"}, "parent_id": {"type": ["integer", "null"]}}},
                "Job": {"type": "object", "properties": {"id": {"type": "integer"}, "kind": {"type": "string"},
                                                         "state": {"type": "string", "enum": ["queued", "running", "done", "failed", "cancelled"]},
                                                         "progress": {"type": "object", "properties": {"done": {"type": "integer"}, "total": {"type": "integer"}}},
                                                         "percent": {"type": "integer"}, "result": {}, "error": {}}},
                "ImportBatch": {"type": "object", "properties": {"id": {"type": "integer"}, "status": {"type": "string", "enum": ["previewed", "rejected", "queued", "applied", "failed"]},
                                                                 "preview": {"type": "object"}, "job_id": {"type": ["integer", "null"]}}},
            },
        },
        "paths": {
            "/api/openapi.json": {"get": {**_op("Tài liệu OpenAPI này", errors=()), "security": []}},
            "/api/me": {"get": _op("Người dùng hiện tại", errors=(401,))},
            "/api/tokens": {"post": _op("Tạo mã truy cập API cho chính mình", body={"type": "object", "properties": {"name": {"type": "string"}}}, ok=201, errors=(400, 401))},
            "/api/members": {
                "get": _op("Danh sách đảng viên trong phạm vi của người dùng", params=FILTERS, errors=(401,)),
                "post": _op("Thêm đảng viên", body={"$ref": "#/components/schemas/MemberInput"}, ok=201, ok_schema=member, errors=(400, 401, 403, 409)),
            },
            "/api/members/export.xlsx": {"get": _op("Xuất danh sách (đã lọc) ra Excel", params=FILTERS, binary=True, errors=(401,))},
            "/api/members/{member_id}": {
                "get": _op("Hồ sơ một đảng viên", params=[_path_id("member_id")], ok_schema=member),
                "patch": _op("Sửa hồ sơ", params=[_path_id("member_id")], body={"$ref": "#/components/schemas/MemberInput"}, ok_schema=member, errors=(400, 401, 403, 404, 409)),
            },
            "/api/members/{member_id}/history": {"get": _op("Lịch sử thay đổi của hồ sơ", params=[_path_id("member_id")])},
            "/api/organisations": {
                "get": _op("Tổ chức đảng", params=[{"name": "kind", "in": "query", "schema": {"type": "string"}}], errors=(401,)),
                "post": _op("Thêm tổ chức đảng (quản trị viên)", body={"type": "object", "properties": {"name": {"type": "string"}, "kind": {"type": "string"}, "parent_id": {"type": "integer"}, "place": {"type": "string"}}, "required": ["name", "kind"]}, ok=201),
            },
            "/api/organisations/{org_id}": {"get": _op("Một tổ chức đảng", params=[_path_id("org_id")]),
                                            "patch": _op("Sửa tên, địa danh, bí thư ký văn bản, cấp trên (quản trị viên)", params=[_path_id("org_id")],
                                                         body={"type": "object", "properties": {"name": {"type": "string"}, "place": {"type": "string"},
                                                                                                "secretary_name": {"type": "string"}, "parent_id": {"type": "integer"}}})},
            "/api/imports": {"post": _op("Tải lên tệp Excel và xem trước", multipart=True, ok=201, ok_schema={"$ref": "#/components/schemas/ImportBatch"}, errors=(400, 401, 403, 413))},
            "/api/imports/{batch_id}": {"get": _op("Kết quả xem trước", params=[_path_id("batch_id")], ok_schema={"$ref": "#/components/schemas/ImportBatch"})},
            "/api/imports/{batch_id}/confirm": {"post": _op("Xác nhận nhập (chạy thành công việc nền)", params=[_path_id("batch_id")], ok=202, ok_schema=job, errors=(400, 401, 403, 404, 409))},
            "/api/jobs": {"get": _op("Công việc nền", errors=(401,))},
            "/api/members/{member_id}/introductions": {"post": _op("Lập giấy giới thiệu (hoặc trả lại giấy đã lập trong năm)", params=[_path_id("member_id")], ok=201)},
            "/api/introductions/{intro_id}/document": {"get": _op("Tải giấy giới thiệu (giữ nguyên số)", params=[_path_id("intro_id"), FORMAT], binary=True)},
            "/api/members/{member_id}/evaluations": {"post": _op("Lập phiếu nhận xét của năm (mỗi năm một số phiếu)", params=[_path_id("member_id")], body={"type": "object", "properties": {"year": {"type": "integer"}}}, ok=201)},
            "/api/evaluations/{ev_id}/document": {"get": _op("Tải phiếu nhận xét", params=[_path_id("ev_id"), FORMAT], binary=True)},
            "/api/evaluations/{ev_id}/void": {"post": _op("Hủy phiếu và lập phiếu thay thế", params=[_path_id("ev_id")], body={"type": "object", "properties": {"reason": {"type": "string"}}, "required": ["reason"]}, ok=201)},
            "/api/documents/bulk": {"post": _op("Trộn văn bản hàng loạt (công việc nền)", body={"type": "object", "required": ["kind", "year"], "properties": {
                "kind": {"type": "string", "enum": ["evaluation_sheet", "introduction_letter"]}, "year": {"type": "integer"},
                "selection": {"type": "object", "properties": {"workplace_org_id": {"type": "integer"}, "residence_cell_id": {"type": "integer"}, "ward_id": {"type": "integer"}, "member_ids": {"type": "array", "items": {"type": "integer"}}}},
                "outputs": {"type": "array", "items": {"type": "string", "enum": ["zip", "combined", "pdf", "cell_bundles"]}}}}, ok=202, ok_schema=job)},
            "/api/documents/preview": {"get": _op("Xem trước một văn bản (PDF hoặc PNG), không lập số", params=[
                {"name": "kind", "in": "query", "schema": {"type": "string"}}, {"name": "member_id", "in": "query", "required": True, "schema": {"type": "integer"}},
                {"name": "year", "in": "query", "schema": {"type": "integer"}}, FORMAT], binary=True)},
            "/api/scans": {"post": {**_op("Tải lên bản quét (nhiều tệp, trường 'files'); đọc trong công việc nền", ok=202, errors=(400, 401, 403, 413)),
                                    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {"type": "object", "properties": {
                                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}}, "auto_apply": {"type": "string"}}}}}}}},
            "/api/scans/{batch_id}": {"get": _op("Một lô quét và các trang", params=[_path_id("batch_id")])},
            "/api/scan-pages": {"get": _op("Các trang đã đọc", params=[{"name": "status", "in": "query", "schema": {"type": "string", "enum": ["review", "conflict", "applied", "rejected", "duplicate", "skipped", "error"]}}], errors=(401,))},
            "/api/scan-pages/{page_id}": {"get": _op("Một trang: kết quả đọc, độ tin cậy, vị trí", params=[_path_id("page_id")])},
            "/api/scan-pages/{page_id}/apply": {"post": _op("Cập nhật phiếu nhận xét từ trang (có thể sửa, chọn đảng viên khác)", params=[_path_id("page_id")], body={"type": "object", "properties": {
                "answers": {"type": "object"}, "other_remarks": {"type": "string"}, "member_id": {"type": "integer"}, "year": {"type": "integer"}}}, errors=(400, 401, 403, 404, 409))},
            "/api/scan-pages/{page_id}/reject": {"post": _op("Loại trang", params=[_path_id("page_id")], body={"type": "object", "properties": {"reason": {"type": "string"}}})},
            "/api/scan-pages/{page_id}/undo": {"post": _op("Hoàn tác việc cập nhật", params=[_path_id("page_id")], errors=(401, 403, 404, 409))},
            "/api/transcriptions": {"get": _op("«Nhận xét khác» viết tay chờ nhập (ảnh cắt từ phiếu đã quét)", errors=(401,))},
            "/api/transcriptions/{ev_id}/crop": {"get": _op("Ảnh phần «Nhận xét khác» cắt từ phiếu", params=[_path_id("ev_id")], binary=True)},
            "/api/transcriptions/{ev_id}": {"post": _op("Lưu nội dung «Nhận xét khác» đã gõ lại", params=[_path_id("ev_id")], body={"type": "object", "properties": {
                "text": {"type": "string"}}, "required": ["text"]}, errors=(400, 401, 403, 404, 409))},
            "/api/templates": {"get": _op("Các phiên bản mẫu văn bản", errors=(401,)),
                               "post": _op("Tải lên phiên bản mẫu mới (quản trị viên)", multipart=True, ok=201)},
            "/api/jobs/{job_id}": {"get": _op("Một công việc và tiến độ", params=[_path_id("job_id")], ok_schema=job)},
            "/api/jobs/{job_id}/cancel": {"post": _op("Hủy công việc", params=[_path_id("job_id")], ok_schema=job)},
        },
    }
