"""Phones at checkout: checked with phonenumbers, Kazakhstan by default, stored in E.164."""

import pytest
from django import forms

from shop.apps.checkout.phone import PhoneField, to_e164


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("+7 701 123 45 67", "+77011234567"),
        ("8 (701) 123-45-67", "+77011234567"),  # the local trunk prefix
        ("701 123 4567", "+77011234567"),  # no prefix at all: a Kazakh mobile
        ("+7 727 258 00 00", "+77272580000"),  # Almaty landline
        ("8 916 123-45-67", "+79161234567"),  # a Russian mobile under the shared +7
        ("+998 90 123 45 67", "+998901234567"),  # Uzbekistan, written with its code
    ],
)
def test_valid_numbers_are_stored_in_e164(typed, stored):
    assert PhoneField().clean(typed) == stored


@pytest.mark.parametrize("typed", ["12345", "+7 000 000 00 00", "телефон", "+1 555", "8 701 123"])
def test_invalid_numbers_are_refused_in_russian(typed):
    with pytest.raises(forms.ValidationError) as error:
        PhoneField().clean(typed)
    assert error.value.code == "invalid"


def test_phone_is_required():
    with pytest.raises(forms.ValidationError) as error:
        PhoneField().clean("")
    assert error.value.code == "required"


def test_default_region_is_a_setting(settings):
    settings.PHONENUMBER_DEFAULT_REGION = "RU"
    assert to_e164("8 916 123-45-67") == "+79161234567"
    assert to_e164("916 123 45 67") == "+79161234567"
    settings.PHONENUMBER_DEFAULT_REGION = "UZ"
    assert to_e164("90 123 45 67") == "+998901234567"
