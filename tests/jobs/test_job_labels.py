from django.utils.translation import override

from jobs.templatetags.job_labels import job_label


def test_fixed_labels_are_translated_for_the_viewer():
    with override("zh-hans"):
        assert job_label("rejected rows") == "被拒绝的行"
    with override("en"):
        assert job_label("rejected rows") == "rejected rows"


def test_kind_and_action_labels_are_composed():
    with override("zh-hans"):
        assert job_label("customers inserted") == "客户新增"
        assert job_label("order_lines unchanged") == "订单明细未变化"


def test_unknown_labels_pass_through():
    with override("zh-hans"):
        assert job_label("widgets") == "widgets"
