"""The sendPhoto method: uploaded PNG/JPEG files or file_ids, checked as Telegram checks photos."""

from __future__ import annotations

import copy
import time
from typing import Any

from fakes.bot_api.message_content import caption, reply_markup
from fakes.bot_api.messages import MessagesMixin
from fakes.bot_api.protocol import JSONDict, bad_request
from fakes.bot_api.records import SentMessage
from fakes.bot_api.request_params import without_file_contents
from fakes.bot_api.state import MethodHandler

MAX_PHOTO_BYTES = 10 * 1024 * 1024


def png_size(content: bytes) -> tuple[int, int] | None:
    """Return a PNG's (width, height) from its IHDR chunk, or None if it is no PNG."""
    if len(content) < 24 or content[:8] != b"\x89PNG\r\n\x1a\n" or content[12:16] != b"IHDR":
        return None
    return int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")


def jpeg_size(content: bytes) -> tuple[int, int] | None:
    """Return a JPEG's (width, height) from its first SOF marker, or None if it is no JPEG."""
    if content[:2] != b"\xff\xd8":
        return None
    pos = 2
    while pos + 9 < len(content):
        if content[pos] != 0xFF:
            return None
        marker = content[pos + 1]
        length = int.from_bytes(content[pos + 2 : pos + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            height = int.from_bytes(content[pos + 5 : pos + 7], "big")
            width = int.from_bytes(content[pos + 7 : pos + 9], "big")
            return width, height
        pos += 2 + length
    return None


class PhotosMixin(MessagesMixin):
    """Serve sendPhoto, keeping each uploaded file under the file_id it hands back."""

    def _bot_api_methods(self) -> dict[str, MethodHandler]:
        return {**super()._bot_api_methods(), "sendPhoto": self._send_photo}

    def _photo_sizes(self, photo: Any) -> list[JSONDict]:
        """Accept an uploaded PNG/JPEG or a file_id this fake issued; return its PhotoSizes."""
        if isinstance(photo, str):
            with self._lock:
                content = self.files.get(photo)
            if content is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            file_id = photo
        elif isinstance(photo, dict) and isinstance(photo.get("content"), bytes):
            content = photo["content"]
            if not content:
                raise bad_request("file must be non-empty")
            if len(content) > MAX_PHOTO_BYTES:
                raise bad_request("PHOTO_SAVE_FILE_INVALID")
            file_id = ""
        else:
            raise bad_request("there is no photo in the request")
        size = png_size(content) or jpeg_size(content)
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        width, height = size
        # Telegram's rules for photos: sides adding up to at most 10000, ratio at most 20.
        if (
            width <= 0
            or height <= 0
            or width + height > 10_000
            or max(width, height) > 20 * min(width, height)
        ):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        if not file_id:
            number = next(self._file_ids)
            file_id = f"AgACAgFake{number:012d}"
            with self._lock:
                self.files[file_id] = content
        unique = f"AQADFake{abs(hash(file_id)) % 10**10:010d}"
        # Telegram keeps the original (scaled to 1280 px at most) and a thumbnail.
        scale = min(1.0, 1280 / max(width, height))
        thumb = min(1.0, 90 / max(width, height))
        return [
            {
                "file_id": file_id + "_s",
                "file_unique_id": unique + "s",
                "width": max(1, round(width * thumb)),
                "height": max(1, round(height * thumb)),
            },
            {
                "file_id": file_id,
                "file_unique_id": unique,
                "width": round(width * scale),
                "height": round(height * scale),
                "file_size": len(content),
            },
        ]

    async def _send_photo(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id_param(params, for_sending=True)
        plain, entities = caption(params, strict_html=self.strict_html)
        markup = reply_markup(params, inline_only=False)
        self._reply_check(params, chat_id)
        sizes = self._photo_sizes(params.get("photo"))
        self._flood.check("sendPhoto", chat_id)
        message = self._keep_bot_message(
            chat_id, params, markup, photo=sizes, caption=plain, caption_entities=entities
        )
        record = SentMessage(
            kind="send",
            method="sendPhoto",
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
            photo=copy.deepcopy(sizes),
        )
        self._keep_record(record)
        return message
