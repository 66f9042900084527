"""The held-out split: fixed per lead, about one lead in five."""

from domain.outcomes import HELD_OUT_BUCKETS, in_held_out_split


def test_about_one_lead_in_five_is_held_out_whatever_the_id_range() -> None:
    # given ten thousand consecutive lead ids, and ten thousand far later ones
    for start in (1, 5_000_000):
        # when each is assigned to a side
        held = sum(in_held_out_split(lead_id) for lead_id in range(start, start + 10_000))
        # then the held-out share is 1/5 within a few points (expected 2000, sd about 40)
        assert abs(held - 10_000 / HELD_OUT_BUCKETS) < 250


def test_a_lead_always_falls_on_the_same_side() -> None:
    # given / when / then the split depends on the id alone
    assert [in_held_out_split(i) for i in range(200)] == [in_held_out_split(i) for i in range(200)]
    assert {in_held_out_split(i) for i in range(200)} == {True, False}
