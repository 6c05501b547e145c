from django.urls import path

from campaigns.coupons import api

urlpatterns = [
    path("coupons/pools/", api.CouponPoolListApi.as_view(), name="coupon-pool-list"),
    path("coupons/pools/<int:pool_id>/", api.CouponPoolDetailApi.as_view(), name="coupon-pool-detail"),
    path("coupons/pools/<int:pool_id>/generate/", api.CouponCodesGenerateApi.as_view(), name="coupon-codes-generate"),
    path("coupons/pools/<int:pool_id>/codes.csv", api.CouponCodesCsvApi.as_view(), name="coupon-codes-csv"),
    path("coupons/redeem/", api.CouponRedeemApi.as_view(), name="coupon-redeem"),
]
