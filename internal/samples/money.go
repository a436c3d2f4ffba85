package samples

import (
	"fmt"
	"strconv"
	"strings"
)

// Limits that keep integer arithmetic far from overflow.
const (
	maxMoneyDigits    = 13                  // integer digits of an amount: below 10^13 units
	maxQuantityDigits = 9                   // integer digits of a quantity
	maxLineCents      = 100_000_000         // unit price below 1,000,000.00
	maxLineMilli      = 1_000_000_000       // quantity below 1,000,000
	maxSubtotalCents  = 100_000_000_000_000 // so subtotal × 10000 fits in int64
)

// FormatCents formats an amount of cents as a decimal string with two
// decimals: 385000 → "3850.00", -5 → "-0.05".
func FormatCents(cents int64) string {
	sign := ""
	if cents < 0 {
		sign = "-"
		cents = -cents
	}
	return fmt.Sprintf("%s%d.%02d", sign, cents/100, cents%100)
}

// ParseCents parses a decimal amount with at most two decimals ("3850",
// "3850.5", "3850.00", "-12.30") into cents. It accepts no exponent, no
// thousands separator and no currency sign.
func ParseCents(s string) (int64, error) {
	v, err := parseFixed(s, 2, maxMoneyDigits)
	if err != nil {
		return 0, fmt.Errorf("amount %q: %w", s, err)
	}
	return v, nil
}

// parseQuantityMilli parses a quantity with at most three decimals into
// thousandths. A quantity is also a valid JSON number.
func parseQuantityMilli(s string) (int64, error) {
	v, err := parseFixed(s, 3, maxQuantityDigits)
	if err != nil {
		return 0, fmt.Errorf("quantity %q: %w", s, err)
	}
	return v, nil
}

// parseFixed parses [-]digits[.decimals] with at most maxDec decimals and
// maxInt integer digits, scaled by 10^maxDec. The integer part follows JSON's
// number rule: no leading zeros.
func parseFixed(s string, maxDec, maxInt int) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimPrefix(s, "-")
	intPart, frac, hasDot := strings.Cut(body, ".")
	if intPart == "" || len(intPart) > maxInt || !allDigits(intPart) {
		return 0, fmt.Errorf("not a decimal number with at most %d integer digits", maxInt)
	}
	if len(intPart) > 1 && intPart[0] == '0' {
		return 0, fmt.Errorf("leading zero")
	}
	if hasDot && (frac == "" || len(frac) > maxDec || !allDigits(frac)) {
		return 0, fmt.Errorf("want 1 to %d decimals", maxDec)
	}
	frac += strings.Repeat("0", maxDec-len(frac))
	v, err := strconv.ParseInt(intPart+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("out of range")
	}
	if neg {
		v = -v
	}
	return v, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// divRoundHalfUp divides a by b (b > 0), rounding halves away from zero.
func divRoundHalfUp(a, b int64) int64 {
	if a < 0 {
		return -divRoundHalfUp(-a, b)
	}
	return (a + b/2) / b
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
