"""Every result link Gaitu will not fetch is found in the reply and refused by a named rule.

The rule (FetchError.refusal) is what the person is told, in their words (editor/failures.py);
the reason beside it names the address or scheme, for the log and the failure's detail.
"""

import pytest

from gateway import fetch
from gateway.chat.reply import parse_reply
from gateway.failures import LINK_REFUSALS
from tests.support.fetch_servers import fails, fake_dns
from tests.support.fetch_servers import loopback_only as loopback_only
from tests.support.fetch_servers import no_connection as no_connection

HOSTILE = [
    ("http://[::1]/x.png", "loopback_address"),
    ("http://[::ffff:127.0.0.1]/x.png", "loopback_address"),  # IPv4-mapped
    ("http://[::ffff:7f00:1]/", "loopback_address"),  # the same, in hex
    ("http://[::127.0.0.1]/x.png", "loopback_address"),  # IPv4-compatible
    ("http://[64:ff9b::7f00:1]/", "loopback_address"),  # NAT64
    ("http://[2002:7f00:1::]/x.png", "loopback_address"),  # 6to4
    ("http://[fe80::1%25eth0]/", "link_local_address"),  # with a zone id
    ("http://0.0.0.0/", "unspecified_address"),
    ("http://[::]/x.png", "unspecified_address"),
    ("http://2130706433/", "loopback_address"),  # decimal
    ("http://0x7f.0.0.1/", "loopback_address"),  # hex
    ("http://017700000001/", "loopback_address"),  # octal
    ("http://127.1/", "loopback_address"),  # short form
    ("http://169.254.169.254/latest/meta-data", "link_local_address"),
    ("http://[fc00::1]/", "private_address"),
    ("http://10.1.2.3/x.png", "private_address"),
    ("http://100.64.0.1/x.png", "private_address"),  # shared address space (CGNAT)
    ("http://224.0.0.1/x.png", "multicast_address"),
    ("http://[ff02::1]/x.png", "multicast_address"),
    ("http://240.0.0.1/x.png", "reserved_address"),
    ("http://localhost/x.png", "loopback_address"),
    ("http://LOCALHOST.:8080/x.png", "loopback_address"),
    ("http://loopback.test/x.png", "loopback_address"),  # a name resolving to 127.0.0.1
    ("http://mixed.test/x.png", "private_address"),  # one public and one private address
    ("ftp://example.com/a.png", "scheme_not_allowed"),
    ("file:///etc/passwd", "scheme_not_allowed"),
    ("javascript:alert(1)", "scheme_not_allowed"),
    ("gopher://example.com/1/a.png", "scheme_not_allowed"),
    ("data:text/html;base64,PHNjcmlwdD4=", "scheme_not_allowed"),
    ("http://user:secret@example.com/x.png", "credentials_in_link"),
    ("http://example.com:99999/x.png", "invalid_link"),
    ("http:///x.png", "invalid_link"),
]
DNS = {"loopback.test": ["127.0.0.1"], "mixed.test": ["93.184.216.34", "10.0.0.9"]}


@pytest.mark.parametrize(("link", "rule"), HOSTILE)
def test_each_refused_link_names_its_rule(link, rule, no_connection, monkeypatch):
    fake_dns(monkeypatch, DNS)
    refused = fails(link, "link_blocked")
    assert refused.refusal == rule
    assert refused.reason  # the facts, for the log: the address or the scheme


def test_every_rule_is_met_by_some_link():
    assert {rule for _link, rule in HOSTILE} == LINK_REFUSALS


def test_an_exempt_host_is_not_judged_by_the_address_rules(no_connection, monkeypatch):
    """GAITU_FETCH_ALLOW_HOSTS (and the gateway's own host): the connection is attempted."""
    fake_dns(monkeypatch, DNS)
    with pytest.raises(pytest.fail.Exception, match="a connection was attempted"):
        fetch.fetch_image("http://loopback.test/x.png", allow_hosts=["loopback.test"])
    with pytest.raises(pytest.fail.Exception, match="a connection was attempted"):
        fetch.fetch_image("http://[::1]:8000/x.png", allow_hosts=["[::1]:8000"])
    # The exemption is for the host named, not for every spelling of its address.
    assert fails("http://[::1]/x.png", "link_blocked", allow_hosts=["127.0.0.1"]).refusal == (
        "loopback_address"
    )
    # Nor for another scheme.
    refused = fails("ftp://loopback.test/x.png", "link_blocked", allow_hosts=["loopback.test"])
    assert refused.refusal == "scheme_not_allowed"


@pytest.mark.parametrize(
    "link",
    [
        link
        for link, _rule in HOSTILE
        if "@" not in link  # a markdown image of such a link is written the same way
    ],
)
def test_the_reply_parser_finds_each_link_in_a_markdown_image(link):
    reply = parse_reply(f"Here is your picture:\n\n![edited]({link})\n")
    assert (reply.images, reply.failure) == ([link], None)


@pytest.mark.parametrize(
    "link",
    [
        "http://[::1]/x.png",
        "http://[::ffff:127.0.0.1]/x.png",
        "http://[fe80::1%25eth0]/x.png",
        "ftp://example.com/a.png",
        "gopher://example.com/1/a.png",
        "file:///tmp/result.png",
    ],
)
def test_the_reply_parser_finds_a_bare_picture_link_of_any_kind(link):
    reply = parse_reply(f"生成完成 ✅\n结果：{link} 请查收。")
    assert reply.images == [link]


@pytest.mark.parametrize(
    "images",
    [
        ["ftp://example.com/a.png"],
        [{"type": "image_url", "image_url": {"url": "file:///etc/passwd"}}],
        [{"url": "javascript:alert(1)"}],
    ],
)
def test_an_images_field_entry_of_any_kind_is_a_result(images):
    from gateway.chat.reply import ReplyAccumulator

    accumulator = ReplyAccumulator()
    accumulator.feed_completion({"choices": [{"index": 0, "message": {"images": images}}]})
    reply = accumulator.result()
    assert len(reply.images) == 1 and reply.failure is None


@pytest.mark.parametrize(
    "text",
    [
        "Read more at ftp://example.com/readme.txt",  # not a picture's name: not a result
        "javascript:alert(1) is what I would not do.",  # not in a markdown image
        "![echo](data:image/png;base64,...)",  # an abbreviated echo, not a picture
    ],
)
def test_other_text_is_not_taken_for_a_result_link(text):
    assert parse_reply(text).images == []
