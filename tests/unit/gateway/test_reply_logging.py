"""How replies are written to the log: data URIs are described by size, never copied out."""

from gateway.chat.errors import elide_data_uris
from gateway.chat.reply import describe_image_ref
from tests.support.reply_samples import CDN, PNG, PNG_URI


def test_describe_image_ref():
    assert describe_image_ref(PNG_URI) == "data:image/png;base64,<77 bytes>"
    assert describe_image_ref("data:image/jpeg;base64,AAAA") == "data:image/jpeg;base64,<3 bytes>"
    assert describe_image_ref(f"{CDN}/a.png?x=1") == f"{CDN}/a.png?x=1"


def test_elide_data_uris():
    text = f"![image]({PNG_URI}) and ![b](data:image/webp;base64,AAAAAA==)"
    assert elide_data_uris(text) == (
        "![image](data:image/png;base64,<77 bytes>) and ![b](data:image/webp;base64,<4 bytes>)"
    )
    escaped = '{"url": "' + PNG_URI.replace("/", "\\/") + '"}'  # as PHP gateways write JSON
    assert PNG[:20] not in elide_data_uris(escaped)
