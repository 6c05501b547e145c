"""Why a coupon request was refused, as codes the API and the pages share.

Refused *redemptions* are not errors: they are recorded as ``Redemption`` rows with a
``Redemption.Reason`` (expired, below_min_spend, ...), which the API answers with 409.
"""

from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _

from jobs.errors import CodedError


class CouponErrorCode(StrEnum):
    UNKNOWN_KIND = "unknown_kind"
    UNKNOWN_DISCOUNT_KIND = "unknown_discount_kind"
    PERCENT_OUT_OF_RANGE = "percent_out_of_range"
    AMOUNT_NOT_POSITIVE = "amount_not_positive"
    MIN_SPEND_NEGATIVE = "min_spend_negative"
    SHARED_CODE_NEEDED = "shared_code_needed"
    SHARED_CODE_INVALID = "shared_code_invalid"
    SHARED_CODE_TAKEN = "shared_code_taken"
    CODE_LENGTH_OUT_OF_RANGE = "code_length_out_of_range"
    PREFIX_INVALID = "prefix_invalid"
    UNIQUE_CODES_SINGLE_USE = "unique_codes_single_use"
    MULTI_USE_NOT_SUPPORTED = "multi_use_not_supported"
    COUNT_OUT_OF_RANGE = "count_out_of_range"
    SHARED_POOL_HAS_ONE_CODE = "shared_pool_has_one_code"
    CODES_EXHAUSTED = "codes_exhausted"
    UNKNOWN_CODE = "unknown_code"
    ORDER_HAS_OTHER_COUPON = "order_has_other_coupon"


MESSAGES: dict[CouponErrorCode, Any] = {
    CouponErrorCode.UNKNOWN_KIND: _("%(kind)s is not a kind of pool (use shared or unique)."),
    CouponErrorCode.UNKNOWN_DISCOUNT_KIND: _("%(kind)s is not a kind of discount (use percent or fixed)."),
    CouponErrorCode.PERCENT_OUT_OF_RANGE: _("A percent discount must be more than 0 and at most 100."),
    CouponErrorCode.AMOUNT_NOT_POSITIVE: _("The amount off must be more than 0."),
    CouponErrorCode.MIN_SPEND_NEGATIVE: _("The minimum spend cannot be negative."),
    CouponErrorCode.SHARED_CODE_NEEDED: _("A shared pool needs its code."),
    CouponErrorCode.SHARED_CODE_INVALID: _("Use up to 64 letters, digits, '-' or '_' for the code."),
    CouponErrorCode.SHARED_CODE_TAKEN: _("The code %(value)s is already in use."),
    CouponErrorCode.CODE_LENGTH_OUT_OF_RANGE: _("Codes have %(low)d to %(high)d random characters."),
    CouponErrorCode.PREFIX_INVALID: _("Use up to %(limit)d letters, digits, '-' or '_' for the prefix."),
    CouponErrorCode.UNIQUE_CODES_SINGLE_USE: _("A unique code is always used once."),
    CouponErrorCode.MULTI_USE_NOT_SUPPORTED: _("A shared code can be used once per customer."),
    CouponErrorCode.COUNT_OUT_OF_RANGE: _("Generate from 1 to %(limit)d codes at a time."),
    CouponErrorCode.SHARED_POOL_HAS_ONE_CODE: _("A shared pool has its one code: no codes to generate."),
    CouponErrorCode.CODES_EXHAUSTED: _("No more new codes of this length: use longer codes or a new prefix."),
    CouponErrorCode.UNKNOWN_CODE: _("No coupon has the code %(value)s."),
    CouponErrorCode.ORDER_HAS_OTHER_COUPON: _("This order has already redeemed another coupon."),
}


class CouponError(CodedError):
    """A refused coupon request; ``field`` names the input at fault."""

    codes = CouponErrorCode
    messages = MESSAGES

    def as_api(self) -> dict[str, Any]:
        """What the API answers: the message already rendered."""
        return {"field": self.field, "code": self.code.value, "message": self.message}
