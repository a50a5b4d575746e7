"""The OpenAI adapters send exactly the documented requests and classify every failure.

A real ``openai.OpenAI`` client, configured as production configures it, talks to an
``httpx2.MockTransport`` (openai 3 runs on HTTPX2): the SDK builds and parses each HTTP exchange as
it would against api.openai.com, and nothing leaves the process.
"""

from __future__ import annotations

import base64
import io
import json
import uuid
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP

import boto3
import httpx2
import pytest
from PIL import Image

from storywink.config import Settings, load_settings
from storywink.domain.book_details import BookDetails
from storywink.providers import (
    ContentPolicyError,
    IllustrationRequest,
    PagePhoto,
    PermanentProviderError,
    StoryRequest,
    TransientProviderError,
)
from storywink.providers.openai import story as openai_story
from storywink.providers.openai.client import build_client, resolve_api_key
from storywink.providers.openai.illustration import OpenAIIllustrationProvider
from storywink.providers.openai.photos import edit_size
from storywink.providers.openai.story import OpenAIStoryProvider
from storywink.providers.registry import build_illustration_provider, build_story_provider

API_KEY = "sk-test-0123456789abcdef"
PAGE_IDS = ["page-title", "page-park", "page-rocket"]


@pytest.fixture(autouse=True)
def openai_environment(monkeypatch):
    """Only OPENAI_API_KEY is set; Powertools' secret cache starts and ends empty."""
    from aws_lambda_powertools.utilities import parameters

    for variable in (
        "OPENAI_API_KEY_SECRET_ARN",
        "OPENAI_API_KEY_PARAMETER",
        "OPENAI_BASE_URL",
        "OPENAI_STORY_MODEL",
        "OPENAI_IMAGE_MODEL",
        "OPENAI_TIMEOUT_SECONDS",
        "OPENAI_ORG_ID",
        "OPENAI_PROJECT_ID",
        "STORY_PROVIDER",
        "ILLUSTRATION_PROVIDER",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    parameters.clear_caches()
    yield
    parameters.clear_caches()


class FakeOpenAI:
    """Plays api.openai.com: records every request and answers with the next scripted reply (or raises it)."""

    def __init__(self, *replies: httpx2.Response | Exception) -> None:
        self.replies = list(replies)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        self.requests.append(request)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    def client(self, settings: Settings):
        return build_client(settings, http_client=httpx2.Client(transport=httpx2.MockTransport(self)))

    def story_provider(self, settings: Settings | None = None) -> OpenAIStoryProvider:
        """The adapter as a container builds it, from the environment as it is now unless told otherwise."""
        settings = settings or load_settings()
        return OpenAIStoryProvider(settings, self.client(settings))

    def illustration_provider(self, settings: Settings | None = None) -> OpenAIIllustrationProvider:
        settings = settings or load_settings()
        return OpenAIIllustrationProvider(settings, self.client(settings))

    @property
    def request(self) -> httpx2.Request:
        assert len(self.requests) == 1, "exactly one request: the state machine, not the SDK, retries"
        return self.requests[0]

    def json(self) -> dict:
        return json.loads(self.request.content)


def _photo(width: int, height: int, colour=(200, 120, 60)) -> bytes:
    image = Image.new("RGB", (width, height), colour)
    image.paste((40, 90, 200), (width // 4, height // 4, width // 2, height // 2))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _story_request(title: str = "Zoë's Space Day") -> StoryRequest:
    photos = [_photo(2000, 1500), _photo(900, 1400), _photo(640, 427)]
    # Deliberately out of order: the request (and the result) follow page numbers.
    pages = [
        PagePhoto("page-rocket", 3, False, photos[2]),
        PagePhoto("page-title", 1, True, photos[0]),
        PagePhoto("page-park", 2, False, photos[1]),
    ]
    details = BookDetails(
        title="Zoë's Space Day",
        child_name="Zoë",
        art_style="watercolor",
        tone="gentle bedtime",
        theme="space",
        key_characters="Grandpa Joe, our dog Biscuit",
        special_objects="a red rocket",
        excitement_element="a launch to the moon",
    )
    # model_copy skips validation, so a test can also send a blank title (which the API refuses).
    return StoryRequest(book_id="book-1", details=details.model_copy(update={"title": title}), pages=pages)


def _illustration_request(photo: bytes, style: str = "watercolor", **overrides) -> IllustrationRequest:
    values = {
        "book_id": "book-1",
        "page_id": "page-park",
        "art_style": style,
        "photo": photo,
        "text": "Zoë and Biscuit raced across the park.",
        "illustration_notes": "Show Zoë running with Biscuit; golden afternoon light.",
        "is_title_page": False,
    }
    return IllustrationRequest(**{**values, **overrides})


# ---------------------------------------------------------------- documented response shapes


def chat_completion(content: str | None, *, refusal: str | None = None, finish_reason: str = "stop"):
    return httpx2.Response(
        200,
        json={
            "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
            "object": "chat.completion",
            "created": 1741569952,
            "model": "gpt-4o-2024-08-06",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": refusal, "annotations": []},
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": 1312,
                "completion_tokens": 287,
                "total_tokens": 1599,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": 0,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
            "service_tier": "default",
            "system_fingerprint": "fp_f9f4fb6dbf",
        },
        headers={"x-request-id": "req_story"},
    )


def story_json(page_ids: list[str] = PAGE_IDS, title: str = "Zoë and the Red Rocket") -> str:
    pages = [
        {
            "pageId": page_id,
            "text": f"Zoë's page {index}: Biscuit wags his tail under the stars.",
            "illustrationNotes": f"Notes for {page_id}: soft evening light.",
        }
        for index, page_id in enumerate(page_ids, start=1)
    ]
    return json.dumps({"title": title, "pages": pages})


def images_response(picture: bytes) -> httpx2.Response:
    return httpx2.Response(
        200,
        json={
            "created": 1713833628,
            "data": [{"b64_json": base64.b64encode(picture).decode("ascii")}],
            "background": "opaque",
            "output_format": "png",
            "quality": "high",
            "size": "1536x1024",
            "usage": {
                "total_tokens": 4360,
                "input_tokens": 1200,
                "output_tokens": 3160,
                "input_tokens_details": {"text_tokens": 160, "image_tokens": 1040},
            },
        },
    )


def api_error(status: int, code: str | None, message: str, error_type: str = "invalid_request_error"):
    body = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
    return httpx2.Response(status, json=body, headers={"x-request-id": f"req_{status}"})


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (250, 230, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def _form(request: httpx2.Request) -> dict[str, Message]:
    """The multipart/form-data body, field name -> part."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.content)
    return {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}


def _field(form: dict[str, Message], name: str) -> str:
    return form[name].get_payload(decode=True).decode("utf-8")


def _data_url_image(url: str) -> Image.Image:
    prefix = "data:image/jpeg;base64,"
    assert url.startswith(prefix)
    return Image.open(io.BytesIO(base64.b64decode(url[len(prefix) :])))


# ---------------------------------------------------------------- the story


def test_the_story_is_one_chat_completion_with_the_photos_the_book_and_a_strict_schema():
    fake = FakeOpenAI(chat_completion(story_json()))
    fake.story_provider().write_story(_story_request())

    request = fake.request
    assert request.method == "POST"
    assert request.url.path == "/v1/chat/completions"
    assert request.url.host == "api.openai.com"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    body = fake.json()
    assert body["model"] == "gpt-4o"
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "picture_book_story",
            "strict": True,
            "schema": {
                "type": "object",
                "properties": {
                    "title": {"type": "string"},
                    "pages": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "pageId": {"type": "string", "enum": PAGE_IDS},
                                "text": {"type": "string"},
                                "illustrationNotes": {"type": "string"},
                            },
                            "required": ["pageId", "text", "illustrationNotes"],
                            "additionalProperties": False,
                        },
                    },
                },
                "required": ["title", "pages"],
                "additionalProperties": False,
            },
        },
    }
    system, user = body["messages"]
    assert system["role"] == "system" and "picture book" in system["content"]
    assert user["role"] == "user"
    texts = [part["text"] for part in user["content"] if part["type"] == "text"]
    details = texts[0]
    for expected in (
        "Child's name: Zoë",
        "Theme: space",
        "Tone: gentle bedtime",
        "Key characters: Grandpa Joe, our dog Biscuit",
        "Special objects: a red rocket",
        "Exciting moment: a launch to the moon",
        "Art style: watercolor",
        "Title: Zoë's Space Day",
    ):
        assert expected in details
    assert texts[1:] == [
        "Page 1 (title page), pageId page-title:",
        "Page 2, pageId page-park:",
        "Page 3, pageId page-rocket:",
    ]


def test_every_photo_travels_as_a_small_jpeg_data_url_in_page_order():
    fake = FakeOpenAI(chat_completion(story_json()))
    fake.story_provider().write_story(_story_request())

    images = [part["image_url"] for part in fake.json()["messages"][1]["content"] if part["type"] == "image_url"]
    assert [image["detail"] for image in images] == ["low"] * 3
    sizes = [_data_url_image(image["url"]).size for image in images]
    # 2000x1500 and 900x1400 are shrunk to a 768 px long side; 640x427 is already small enough.
    assert sizes == [(768, 576), (494, 768), (640, 427)]
    assert all(_data_url_image(image["url"]).format == "JPEG" for image in images)


def test_the_story_result_has_every_page_in_order_with_the_token_usage():
    fake = FakeOpenAI(chat_completion(story_json(["page-rocket", "page-title", "page-park"])))
    result = fake.story_provider().write_story(_story_request())

    assert [page.page_id for page in result.pages] == PAGE_IDS
    assert result.pages[0].text == "Zoë's page 2: Biscuit wags his tail under the stars."
    assert result.pages[0].illustration_notes == "Notes for page-title: soft evening light."
    assert result.title == "Zoë's Space Day"  # the parent's title wins
    assert (result.prompt_tokens, result.completion_tokens) == (1312, 287)
    assert result.provider == "openai"


def test_the_models_title_is_used_when_the_parent_gave_none():
    fake = FakeOpenAI(chat_completion(story_json()))
    result = fake.story_provider().write_story(_story_request(title="  "))
    assert result.title == "Zoë and the Red Rocket"


def test_the_story_model_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("OPENAI_STORY_MODEL", "gpt-4.1")
    fake = FakeOpenAI(chat_completion(story_json()))
    fake.story_provider().write_story(_story_request())
    assert fake.json()["model"] == "gpt-4.1"


def test_a_refusal_is_a_content_policy_error():
    fake = FakeOpenAI(chat_completion(None, refusal="I'm sorry, I can't help with that request."))
    with pytest.raises(ContentPolicyError, match="can't help with that") as caught:
        fake.story_provider().write_story(_story_request())
    assert caught.value.error_name == "Provider.ContentPolicy"
    assert caught.value.provider == "openai"


def test_a_content_filter_stop_is_a_content_policy_error():
    fake = FakeOpenAI(chat_completion(None, finish_reason="content_filter"))
    with pytest.raises(ContentPolicyError):
        fake.story_provider().write_story(_story_request())


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (story_json(["page-title", "page-park"]), "missing: page-rocket"),
        (story_json(["page-title", "page-park", "page-park", "page-rocket"]), "repeated: page-park"),
        (story_json([*PAGE_IDS, "page-extra"]), "unknown: page-extra"),
        ("Once upon a time...", "not the JSON"),
        (json.dumps({"title": "T", "pages": [{"pageId": "page-title", "text": " "}]}), "not the JSON"),
    ],
    ids=["missing-page", "repeated-page", "unknown-page", "not-json", "blank-text"],
)
def test_a_story_without_every_page_exactly_once_is_permanent(content, problem):
    fake = FakeOpenAI(chat_completion(content))
    with pytest.raises(PermanentProviderError, match=problem) as caught:
        fake.story_provider().write_story(_story_request())
    assert caught.value.error_name == "Provider.Permanent"


def test_a_story_cut_off_at_the_length_limit_is_permanent():
    fake = FakeOpenAI(chat_completion('{"title": "Zo', finish_reason="length"))
    with pytest.raises(PermanentProviderError, match="cut off"):
        fake.story_provider().write_story(_story_request())


# ---------------------------------------------------------------- failures, classified once


@pytest.mark.parametrize(
    ("reply", "error", "name"),
    [
        (api_error(429, "rate_limit_exceeded", "Rate limit reached for gpt-4o.", "requests"),
         TransientProviderError, "Provider.Transient"),
        (api_error(500, None, "The server had an error while processing your request.", "server_error"),
         TransientProviderError, "Provider.Transient"),
        (api_error(503, None, "The engine is currently overloaded.", "server_error"),
         TransientProviderError, "Provider.Transient"),
        (api_error(400, "content_policy_violation", "Your request was rejected as a result of our safety system."),
         ContentPolicyError, "Provider.ContentPolicy"),
        (api_error(400, "moderation_blocked", "Your request was rejected by the safety system.",
                   "image_generation_user_error"),
         ContentPolicyError, "Provider.ContentPolicy"),
        (api_error(400, "invalid_image_format", "Invalid image format."), PermanentProviderError, "Provider.Permanent"),
        (api_error(401, "invalid_api_key", "Incorrect API key provided: sk-test***cdef."),
         PermanentProviderError, "Provider.Permanent"),
        (api_error(403, "unsupported_country_region_territory", "Country not supported."),
         PermanentProviderError, "Provider.Permanent"),
        (api_error(404, "model_not_found", "The model `gpt-9` does not exist."),
         PermanentProviderError, "Provider.Permanent"),
        (api_error(422, None, "Unprocessable."), PermanentProviderError, "Provider.Permanent"),
    ],
    ids=["429", "500", "503", "400-content-policy", "400-moderation-blocked", "400", "401", "403", "404", "422"],
)
def test_api_errors_are_classified_without_a_second_attempt(reply, error, name):
    fake = FakeOpenAI(reply)
    with pytest.raises(error) as caught:
        fake.story_provider().write_story(_story_request())
    assert type(caught.value) is error
    assert caught.value.error_name == name
    assert caught.value.provider == "openai"
    message = json.loads(reply.content)["error"]["message"].split(":")[0]
    assert message in str(caught.value)  # the provider's own words, for job history
    assert f"req_{reply.status_code}" in str(caught.value)
    assert len(fake.requests) == 1


def test_an_authentication_error_never_repeats_the_key():
    fake = FakeOpenAI(api_error(401, "invalid_api_key", f"Incorrect API key provided: {API_KEY[:8]}***cdef."))
    with pytest.raises(PermanentProviderError) as caught:
        fake.story_provider().write_story(_story_request())
    assert API_KEY[:8] not in str(caught.value)
    assert "Incorrect API key provided" in str(caught.value)


@pytest.mark.parametrize(
    ("failure", "explanation"),
    [
        (httpx2.ReadTimeout("read timed out"), "did not answer in time"),
        (httpx2.ConnectError("connection refused"), "Could not reach OpenAI"),
    ],
    ids=["timeout", "connection"],
)
def test_timeouts_and_connection_failures_are_transient(failure, explanation):
    fake = FakeOpenAI(failure)
    with pytest.raises(TransientProviderError, match=explanation) as caught:
        fake.story_provider().write_story(_story_request())
    assert caught.value.error_name == "Provider.Transient"
    assert len(fake.requests) == 1


# ---------------------------------------------------------------- the illustration


def test_the_illustration_is_one_image_edit_of_the_page_photo():
    fake = FakeOpenAI(images_response(_png(1536, 1024)))
    fake.illustration_provider().illustrate(_illustration_request(_photo(1800, 1200)))

    request = fake.request
    assert request.method == "POST"
    assert request.url.path == "/v1/images/edits"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    form = _form(request)
    assert _field(form, "model") == "gpt-image-2.5-sunburst"
    assert _field(form, "size") == "1536x1024"
    assert _field(form, "output_format") == "png"
    prompt = _field(form, "prompt")
    assert "watercolor" in prompt
    assert "recognisable" in prompt
    assert "Show Zoë running with Biscuit; golden afternoon light." in prompt
    assert '"Zoë and Biscuit raced across the park."' in prompt
    image = form["image"]
    assert image.get_filename() == "page-park.png"
    assert image.get_content_type() == "image/png"
    sent = Image.open(io.BytesIO(image.get_payload(decode=True)))
    assert (sent.format, sent.size) == ("PNG", (1536, 1024))


def test_the_illustration_comes_back_as_a_print_resolution_png():
    fake = FakeOpenAI(images_response(_png(1536, 1024)))
    result = fake.illustration_provider().illustrate(_illustration_request(_photo(1800, 1200)))

    picture = Image.open(io.BytesIO(result.image))
    assert (picture.format, picture.size) == ("PNG", (2400, 1600))
    assert picture.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    assert picture.getpixel((1200, 800)) == (250, 230, 200)
    assert (result.content_type, result.provider) == ("image/png", "openai")


@pytest.mark.parametrize(
    ("style", "words"),
    [("watercolor", "watercolor"), ("cartoon", "cartoon"), ("pencil-sketch", "pencil sketch")],
)
def test_the_prompt_names_the_books_art_style(style, words):
    fake = FakeOpenAI(images_response(_png(1024, 1024)))
    fake.illustration_provider().illustrate(_illustration_request(_photo(800, 800), style))
    assert words in _field(_form(fake.request), "prompt")


def test_a_title_page_prompt_leaves_room_for_the_title():
    fake = FakeOpenAI(images_response(_png(1024, 1536)))
    request = _illustration_request(_photo(900, 1400), text=None, illustration_notes=None, is_title_page=True)
    fake.illustration_provider().illustrate(request)
    form = _form(fake.request)
    assert "title page" in _field(form, "prompt")
    assert "The page reads" not in _field(form, "prompt")
    assert _field(form, "size") == "1024x1536"


@pytest.mark.parametrize(
    ("photo_size", "drawn"),
    [((4000, 3000), (1536, 1024)), ((3000, 2000), (1536, 1024)), ((1200, 1100), (1024, 1024)),
     ((1000, 1000), (1024, 1024)), ((3000, 4000), (1024, 1536)), ((400, 1200), (1024, 1536))],
)
def test_the_drawn_size_follows_the_photos_orientation(photo_size, drawn):
    assert edit_size(*photo_size) == drawn


def test_the_image_model_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("OPENAI_IMAGE_MODEL", "gpt-image-2")
    fake = FakeOpenAI(images_response(_png(1024, 1024)))
    fake.illustration_provider().illustrate(_illustration_request(_photo(800, 800)))
    assert _field(_form(fake.request), "model") == "gpt-image-2"


def test_a_blocked_image_edit_is_a_content_policy_error():
    fake = FakeOpenAI(
        api_error(400, "moderation_blocked", "Your request was rejected by the safety system.",
                  "image_generation_user_error")
    )
    with pytest.raises(ContentPolicyError, match="safety system"):
        fake.illustration_provider().illustrate(_illustration_request(_photo(800, 600)))


def test_a_rate_limited_image_edit_is_transient():
    fake = FakeOpenAI(api_error(429, "rate_limit_exceeded", "Rate limit reached for images.", "requests"))
    with pytest.raises(TransientProviderError):
        fake.illustration_provider().illustrate(_illustration_request(_photo(800, 600)))


def test_an_unsupported_art_style_is_permanent_and_sends_nothing():
    fake = FakeOpenAI()
    with pytest.raises(PermanentProviderError, match="oil-painting"):
        fake.illustration_provider().illustrate(_illustration_request(_photo(800, 600), "oil-painting"))
    assert fake.requests == []


def test_an_images_response_without_a_picture_is_permanent():
    reply = httpx2.Response(200, json={"created": 1713833628, "data": []})
    with pytest.raises(PermanentProviderError, match="no picture"):
        FakeOpenAI(reply).illustration_provider().illustrate(_illustration_request(_photo(800, 600)))


def test_an_unreadable_photo_is_permanent_and_sends_nothing():
    fake = FakeOpenAI()
    with pytest.raises(PermanentProviderError, match="photo could not be read") as caught:
        fake.illustration_provider().illustrate(_illustration_request(b"not an image"))
    assert caught.value.provider == "openai"
    assert fake.requests == []


# ---------------------------------------------------------------- the key and the client


@pytest.fixture
def without_env_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")


@pytest.mark.parametrize(
    "secret", ["sk-from-secrets-manager", '{"apiKey": "sk-from-secrets-manager"}'], ids=["raw", "json"]
)
def test_the_key_comes_from_secrets_manager(without_env_key, monkeypatch, secret):
    arn = boto3.client("secretsmanager").create_secret(Name=f"openai-{uuid.uuid4()}", SecretString=secret)["ARN"]
    monkeypatch.setenv("OPENAI_API_KEY_SECRET_ARN", arn)

    fake = FakeOpenAI(chat_completion(story_json()))
    fake.story_provider().write_story(_story_request())
    assert fake.request.headers["authorization"] == "Bearer sk-from-secrets-manager"


def test_the_key_comes_from_an_ssm_secure_string(without_env_key, monkeypatch):
    name = f"/storywink/test/openai-{uuid.uuid4()}"
    boto3.client("ssm").put_parameter(Name=name, Value="sk-from-ssm", Type="SecureString")
    monkeypatch.setenv("OPENAI_API_KEY_PARAMETER", name)
    assert resolve_api_key(load_settings()) == "sk-from-ssm"


def test_the_environment_key_wins_over_the_secret(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:x")
    assert resolve_api_key(load_settings()) == API_KEY


def test_a_missing_key_is_permanent_and_names_where_to_put_it(without_env_key):
    provider = OpenAIStoryProvider(load_settings())  # builds its client lazily, at the first call
    with pytest.raises(PermanentProviderError, match="OPENAI_API_KEY_SECRET_ARN") as caught:
        provider.write_story(_story_request())
    assert caught.value.error_name == "Provider.Permanent"


def test_a_missing_secret_is_permanent(without_env_key, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone")
    with pytest.raises(PermanentProviderError, match="Could not read the OpenAI API key"):
        OpenAIIllustrationProvider(load_settings()).illustrate(_illustration_request(_photo(800, 600)))


def test_a_secret_without_an_api_key_is_permanent(without_env_key, monkeypatch):
    arn = boto3.client("secretsmanager").create_secret(
        Name=f"openai-{uuid.uuid4()}", SecretString='{"key": "sk-wrong-field"}'
    )["ARN"]
    monkeypatch.setenv("OPENAI_API_KEY_SECRET_ARN", arn)
    with pytest.raises(PermanentProviderError, match="holds no OpenAI API key") as caught:
        resolve_api_key(load_settings())
    assert "sk-wrong-field" not in str(caught.value)


def test_the_client_has_no_sdk_retries_and_the_configured_timeout(monkeypatch):
    monkeypatch.setenv("OPENAI_TIMEOUT_SECONDS", "42.5")
    client = build_client(load_settings())
    assert client.max_retries == 0
    assert client.timeout == 42.5


def test_a_provider_builds_its_client_once_at_its_first_call(monkeypatch):
    fake = FakeOpenAI(chat_completion(story_json()), chat_completion(story_json()))
    built: list[Settings] = []

    def build(settings: Settings):
        built.append(settings)
        return fake.client(settings)

    monkeypatch.setattr(openai_story, "build_client", build)
    settings = load_settings()
    provider = OpenAIStoryProvider(settings)
    assert built == []
    provider.write_story(_story_request())
    provider.write_story(_story_request())
    assert built == [settings]
    assert len(fake.requests) == 2


def test_the_base_url_can_be_overridden():
    fake = FakeOpenAI(chat_completion(story_json()))
    fake.story_provider(Settings(openai_base_url="https://openai-proxy.internal.example/v1")).write_story(
        _story_request()
    )
    assert str(fake.request.url) == "https://openai-proxy.internal.example/v1/chat/completions"


# ---------------------------------------------------------------- selection


def test_the_registry_selects_the_openai_providers(monkeypatch):
    monkeypatch.setenv("STORY_PROVIDER", "openai")
    monkeypatch.setenv("ILLUSTRATION_PROVIDER", "OpenAI")
    settings = load_settings()
    story, illustration = build_story_provider(settings), build_illustration_provider(settings)
    assert isinstance(story, OpenAIStoryProvider) and story.name == "openai"
    assert isinstance(illustration, OpenAIIllustrationProvider) and illustration.name == "openai"


def test_selecting_openai_needs_no_key_until_the_first_call(without_env_key):
    settings = Settings(story_provider="openai", illustration_provider="openai")
    assert isinstance(build_story_provider(settings), OpenAIStoryProvider)
    assert isinstance(build_illustration_provider(settings), OpenAIIllustrationProvider)
