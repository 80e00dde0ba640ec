"""Files through Slack's upload flow v2 (files.getUploadURLExternal -> upload URL -> files.completeUploadExternal),
driven by hand and by slack-sdk's own WebClient.files_upload_v2; sources in sandbox/fake_slack/files.py."""
from __future__ import annotations

from urllib.error import HTTPError

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.fake_slack import FakeSlack

CH = "C0FINANCE"
CSV = "Client,Credit,Invoice\nCafé Olé,11261,10040\n"  # non-ASCII: bytes, not characters, are the length


@pytest.fixture
def files_slack(slack: FakeSlack) -> FakeSlack:
    slack.scopes.add("files:write")
    return slack


def refused(call) -> dict:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value.response.data


def started(client: WebClient, data: bytes, filename: str = "export.csv") -> dict:
    return client.files_getUploadURLExternal(filename=filename, length=len(data)).data


def test_files_write_is_needed(slack: FakeSlack, client: WebClient):
    slack.scopes.clear()  # an app installed before the manifest asked for files:write (the export's scope)
    slack.scopes.update({"chat:write", "commands", "channels:join"})
    err = refused(lambda: client.files_getUploadURLExternal(filename="export.csv", length=3))
    assert err["error"] == "missing_scope" and err["needed"] == "files:write"
    assert err["provided"] == "channels:join,chat:write,commands"
    assert refused(lambda: client.files_completeUploadExternal(files=[{"id": "F1"}]))["error"] == "missing_scope"


def test_files_upload_v2_into_the_bots_dm_with_a_user(files_slack: FakeSlack, client: WebClient):
    """A CSV sent privately: the DM's D... id comes from chat.postMessage to the user id."""
    dm = client.chat_postMessage(channel="U0APPROVE", text="Your export is coming")["channel"]
    answer = client.files_upload_v2(channel=dm, content=CSV, filename="export.csv", title="Credits export",
                                    initial_comment="Here it is")
    assert answer["file"]["id"].startswith("F") and answer["file"]["title"] == "Credits export"
    assert answer["file"]["shares"] == {} and answer["file"]["ims"] == []  # shared afterwards, as Slack does
    [stored] = files_slack.files(dm)
    assert stored["content"].decode() == CSV and stored["length"] == len(CSV.encode()) != len(CSV)
    assert (stored["title"], stored["private"], stored["channels"]) == ("Credits export", False, [dm])
    shown = files_slack.messages(dm)[-1]
    assert shown["text"] == "Here it is" and shown["files"][0]["id"] == stored["id"]
    assert files_slack.files(CH) == []


def test_without_a_channel_the_file_stays_private(files_slack: FakeSlack, client: WebClient):
    client.files_upload_v2(content=b"a,b\n", filename="private.csv")
    [stored] = files_slack.files()
    assert stored["private"] is True and stored["channels"] == [] and stored["completed"]
    assert all("files" not in m for m in files_slack.messages(CH))


def test_user_ids_go_in_channels_not_in_channel_id(files_slack: FakeSlack, client: WebClient):
    err = refused(lambda: client.files_upload_v2(channel="U0APPROVE", content=CSV, filename="x.csv"))
    assert err["error"] == "invalid_arguments"
    assert err["response_metadata"]["messages"] == [
        "[ERROR] input must match regex pattern: ^[CGDZ][A-Z0-9]{8,}$ [json-pointer:/channel_id]"]
    client.files_upload_v2(channels=["U0APPROVE"], content=CSV, filename="x.csv")
    assert [f["channels"] for f in files_slack.files()] == [[], ["D0APPROVE"]]  # the refused one never completed


def test_completing_bytes_that_never_arrived(files_slack: FakeSlack, client: WebClient):
    ticket = started(client, CSV.encode())
    err = refused(lambda: client.files_completeUploadExternal(files=[{"id": ticket["file_id"], "title": "x"}]))
    assert err["error"] == "file_not_found"
    assert refused(lambda: client.files_completeUploadExternal(files=[{"id": "F0NOTAFILE"}]))["error"] \
        == "file_not_found"


def test_a_length_that_is_not_the_bytes_count_is_refused(files_slack: FakeSlack, client: WebClient):
    data = CSV.encode()
    ticket = client.files_getUploadURLExternal(filename="export.csv", length=len(CSV)).data  # characters: wrong
    upload = requests.post(ticket["upload_url"], data=data, timeout=5)
    assert upload.status_code == 400 and upload.text.startswith("length_mismatch")
    assert refused(lambda: client.files_completeUploadExternal(files=[{"id": ticket["file_id"]}]))["error"] \
        == "file_not_found"
    assert refused(lambda: client.files_getUploadURLExternal(filename="empty.csv", length=0))["error"] \
        == "missing_argument"


def test_a_multipart_upload_and_a_second_completion(files_slack: FakeSlack, client: WebClient):
    data = CSV.encode()
    ticket = started(client, data)
    upload = requests.post(ticket["upload_url"], files={"filename": ("export.csv", data)}, timeout=5)
    assert upload.status_code == 200
    done = client.files_completeUploadExternal(files=[{"id": ticket["file_id"]}], channel_id=CH)
    assert done["files"][0]["title"] == "export.csv"  # the filename when no title
    assert files_slack.files(CH)[0]["content"] == data
    assert refused(lambda: client.files_completeUploadExternal(files=[{"id": ticket["file_id"]}]))["error"] \
        == "file_not_found"


def test_channels_the_bot_cannot_share_into(files_slack: FakeSlack, client: WebClient):
    files_slack.add_channel("C0PUBLIC01", "public", bot_member=False)
    files_slack.add_channel("G0PRIVATE1", "private", private=True, bot_member=False)
    files_slack.scopes.add("chat:write.public")  # lets chat.postMessage in, not a file share
    for channel, error in (("C0NOWHERE1", "channel_not_found"), ("G0PRIVATE1", "channel_not_found"),
                           ("C0PUBLIC01", "not_in_channel")):
        ticket = started(client, b"x")
        requests.post(ticket["upload_url"], data=b"x", timeout=5)
        answer = refused(lambda c=channel, t=ticket: client.files_completeUploadExternal(
            files=[{"id": t["file_id"]}], channel_id=c))
        assert answer["error"] == error, channel
    assert not any(f["completed"] for f in files_slack.files())


def test_a_failed_upload_raises_from_files_upload_v2_before_completing(files_slack: FakeSlack, client: WebClient):
    """slack-sdk 3.48.0 POSTs the bytes with urllib: a non-200 from the upload URL raises urllib's HTTPError (not
    SlackApiError) and nothing is completed or shared."""
    files_slack.faults.inject("500", method="upload_url")
    with pytest.raises(HTTPError) as info:
        client.files_upload_v2(channel=CH, content=CSV, filename="export.csv")
    assert info.value.code == 500 and files_slack.calls_to("files.completeUploadExternal") == []
    assert files_slack.call_log("upload_url")[-1]["status"] == 500
    assert files_slack.files(CH) == [] and client.files_upload_v2(channel=CH, content=CSV, filename="again.csv")
