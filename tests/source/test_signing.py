"""The signature test vectors and rules of docs/jimi-api.md#signing."""

from datetime import UTC, datetime

from sources.jimi.signing import format_time, parse_time, password_md5, sign, wire_params

SECRET = "h9lri085eachcz4sn7gwnkh6j0jt0yz4"


def test_sign_matches_reference_vector_when_simple_params():
    assert sign({"foo": 1, "bar": 2, "foo_bar": 3, "foobar": 4}, SECRET) == "2CEB0E3B7EA209555DFFC9296378FDD9"


def test_sign_matches_reference_vector_when_token_get_params():
    params = {
        "app_key": "9FB345B8693CCD0054E44ADF99139409",
        "expires_in": 7200,
        "format": "json",
        "method": "jimi.oauth.token.get",
        "sign_method": "md5",
        "timestamp": "2017-09-28 01:55:00",
        "user_id": "jimitest",
        "user_pwd_md5": "e10adc3949ba59abbe56e057f20f883e",
        "v": "1.0",
    }
    assert sign(params, SECRET) == "F3893B2FA2CF4CC6EFCDF1992E37D4BD"


def test_sign_ignores_sign_and_empty_values_when_present():
    base = {"foo": 1, "bar": 2, "foo_bar": 3, "foobar": 4}
    noisy = {**base, "sign": "XYZ", "empty": "", "missing": None}
    assert sign(noisy, SECRET) == sign(base, SECRET)


def test_sign_sorts_by_code_point_when_names_differ_in_case():
    # Upper case sorts before lower case (Java Arrays.sort), so "Email" precedes "app_key".
    assert sign({"Email": "a", "app_key": "b"}, "s") == sign({"app_key": "b", "Email": "a"}, "s")
    import hashlib

    assert sign({"Email": "a", "app_key": "b"}, "s") == hashlib.md5(b"sEmailaapp_keybs").hexdigest().upper()


def test_wire_params_stringifies_values_when_native_types():
    assert wire_params({"n": 7200, "f": 2.0, "b": True, "t": datetime(2017, 9, 28, 1, 55, tzinfo=UTC)}) == {
        "n": "7200",
        "f": "2",
        "b": "1",
        "t": "2017-09-28 01:55:00",
    }


def test_password_md5_is_lower_case_hex_when_password_123456():
    assert password_md5("123456") == "e10adc3949ba59abbe56e057f20f883e"


def test_parse_time_accepts_unpadded_hour_when_obd_style():
    assert parse_time("2024-05-09 1:27:23") == datetime(2024, 5, 9, 1, 27, 23, tzinfo=UTC)
    assert format_time(datetime(2024, 5, 9, 1, 27, 23, tzinfo=UTC)) == "2024-05-09 01:27:23"
