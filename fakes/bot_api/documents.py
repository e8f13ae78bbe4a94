"""sendDocument, getFile and file downloads: files kept as Telegram keeps them."""

from __future__ import annotations

import copy
import time
from typing import Any

from fakes.bot_api.message_content import caption, reply_markup
from fakes.bot_api.photos import PhotosMixin
from fakes.bot_api.protocol import JSONDict, bad_request
from fakes.bot_api.records import SentMessage
from fakes.bot_api.request_params import without_file_contents
from fakes.bot_api.state import MethodHandler

# What a bot may upload with sendDocument, and download with getFile (Telegram's limits).
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


class DocumentsMixin(PhotosMixin):
    """Serve sendDocument and getFile; keep every file under its file_id for downloads."""

    def _bot_api_methods(self) -> dict[str, MethodHandler]:
        return {
            **super()._bot_api_methods(),
            "sendDocument": self._send_document,
            "getFile": self._get_file,
        }

    def _keep_file(self, content: bytes) -> str:
        """Store a file and return the new file_id it is known by."""
        number = next(self._file_ids)
        file_id = f"BQACAgFake{number:012d}"
        with self._lock:
            self.files[file_id] = content
        return file_id

    def _document(self, document: Any) -> JSONDict:
        """Accept an uploaded file or a file_id this fake issued; return the Document."""
        if isinstance(document, str):
            with self._lock:
                content = self.files.get(document)
            if content is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            return {
                "file_id": document,
                "file_unique_id": f"AgADFake{abs(hash(document)) % 10**10:010d}",
                "file_size": len(content),
            }
        if not isinstance(document, dict) or not isinstance(document.get("content"), bytes):
            raise bad_request("there is no document in the request")
        content = document["content"]
        if not content:
            raise bad_request("file must be non-empty")
        if len(content) > MAX_DOCUMENT_BYTES:
            raise bad_request("Request Entity Too Large")
        file_id = self._keep_file(content)
        found: JSONDict = {
            "file_id": file_id,
            "file_unique_id": f"AgADFake{abs(hash(file_id)) % 10**10:010d}",
            "file_size": len(content),
        }
        if document.get("filename"):
            found["file_name"] = document["filename"]
        if document.get("content_type"):
            found["mime_type"] = document["content_type"]
        return found

    async def _send_document(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id_param(params, for_sending=True)
        plain, entities = caption(params, strict_html=self.strict_html)
        markup = reply_markup(params, inline_only=False)
        self._reply_check(params, chat_id)
        document = self._document(params.get("document"))
        self._flood.check("sendDocument", chat_id)
        message = self._keep_bot_message(
            chat_id, params, markup, document=document, caption=plain, caption_entities=entities
        )
        record = SentMessage(
            kind="send",
            method="sendDocument",
            chat_id=chat_id,
            message_id=message["message_id"],
            text=str(params.get("caption") or ""),
            plain_text=plain,
            parse_mode=params.get("parse_mode") or None,
            entities=copy.deepcopy(entities),
            reply_markup=copy.deepcopy(message.get("reply_markup")),
            message_thread_id=message.get("message_thread_id"),
            params=without_file_contents(params),
            time=time.time(),
            document=copy.deepcopy(document),
        )
        self._keep_record(record)
        return message

    async def _get_file(self, params: JSONDict) -> JSONDict:
        file_id = str(params.get("file_id") or "")
        with self._lock:
            content = self.files.get(file_id)
        if content is None:
            raise bad_request("invalid file_id")
        if len(content) > MAX_DOWNLOAD_BYTES:
            raise bad_request("file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": f"AgADFake{abs(hash(file_id)) % 10**10:010d}",
            "file_size": len(content),
            "file_path": f"documents/{file_id}",
        }

    def file_content(self, file_path: str) -> bytes | None:
        """Return the bytes getFile's file_path names (what /file/bot<token>/<path> serves)."""
        file_id = file_path.rsplit("/", 1)[-1]
        with self._lock:
            return self.files.get(file_id)
