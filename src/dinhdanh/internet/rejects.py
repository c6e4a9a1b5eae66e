"""A registrar upload's rejected rows, sealed for download (store/upload_rejects.py)."""

from __future__ import annotations

from dinhdanh.internet.models import UploadReject
from dinhdanh.store.upload_rejects import RejectTable

REJECTS = RejectTable(UploadReject, "registrar", "internet.upload_rejects")
