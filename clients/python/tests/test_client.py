"""The Python client against a real gateway: DPGATE_URL and DPGATE_ANALYST_KEY name it."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from dpgate import (  # noqa: E402
    Client,
    DpgateError,
    GatewayUnreachable,
    QueryRefused,
    Unauthorized,
)

URL = os.environ.get("DPGATE_URL")
KEY = os.environ.get("DPGATE_ANALYST_KEY", "")


@unittest.skipUnless(URL, "set DPGATE_URL and DPGATE_ANALYST_KEY to a running gateway")
class ClientTest(unittest.TestCase):
    def setUp(self):
        self.gateway = Client(URL, KEY)

    def test_query_returns_noisy_rows_with_cost_and_charges(self):
        answer = self.gateway.query("SELECT educ, COUNT(*) FROM people GROUP BY educ", epsilon=0.5)
        self.assertEqual(answer.columns, ["educ", "count"])
        self.assertGreater(len(answer.rows), 0)
        self.assertEqual(len(answer.accuracy), len(answer.rows))
        self.assertGreater(answer.cost["epsilon"], 0)
        self.assertTrue(all("community" in charge for charge in answer.charged))
        self.assertLessEqual({charge["community"] for charge in answer.charged}, set(answer.remaining))
        self.assertEqual(answer.records()[0].keys(), {"educ", "count"})

    def test_dry_run_charges_nothing(self):
        before = {c["id"]: c["remaining"]["epsilon"] for c in self.gateway.communities()}
        answer = self.gateway.query("SELECT COUNT(*) FROM people", epsilon=0.5, dry_run=True)
        self.assertTrue(answer.raw["dry_run"])
        after = {c["id"]: c["remaining"]["epsilon"] for c in self.gateway.communities()}
        self.assertEqual(before, after)

    def test_refusal_is_typed_with_code_and_position(self):
        sql = "SELECT COUNT(*) FROM people WHERE"
        with self.assertRaises(QueryRefused) as caught:
            self.gateway.query(sql, epsilon=0.5)
        self.assertEqual(caught.exception.code, "syntax_error")
        self.assertEqual(caught.exception.status, 422)
        self.assertIsInstance(caught.exception.position, int)
        self.assertIn("^", caught.exception.caret(sql))

    def test_row_level_output_is_refused(self):
        with self.assertRaises(QueryRefused) as caught:
            self.gateway.query("SELECT income FROM people", epsilon=0.5)
        self.assertNotEqual(caught.exception.code, "syntax_error")

    def test_a_cost_above_the_policy_limit_is_refused_before_any_charge(self):
        with self.assertRaises(DpgateError) as caught:
            self.gateway.query("SELECT COUNT(*) FROM people", epsilon=1000)
        self.assertEqual(caught.exception.status, 422)
        self.assertIn("1000", caught.exception.detail)

    def test_unknown_key_is_unauthorized(self):
        with self.assertRaises(Unauthorized) as caught:
            Client(URL, "dpg_not_a_key").me()
        self.assertEqual(caught.exception.status, 401)

    def test_unreachable_gateway(self):
        with self.assertRaises(GatewayUnreachable) as caught:
            Client("http://127.0.0.1:1", KEY, timeout=5).me()
        self.assertEqual(caught.exception.code, "unreachable")

    def test_dataframe_when_pandas_is_installed(self):
        try:
            import pandas  # noqa: F401
        except ImportError:
            answer = self.gateway.query("SELECT COUNT(*) FROM people", epsilon=0.1)
            with self.assertRaises(ImportError):
                answer.to_dataframe()
            return
        frame = self.gateway.query("SELECT sex, COUNT(*) FROM people GROUP BY sex", epsilon=0.1).to_dataframe()
        self.assertEqual(list(frame.columns), ["sex", "count"])
        self.assertIn("cost", frame.attrs)


if __name__ == "__main__":
    unittest.main()
