package samples

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Pools the generator draws from. Merchants and descriptions include commas,
// quotes, backslashes and non-ASCII text (some outside Windows-1252) on
// purpose, so every rendering path is exercised.
var (
	genMerchants = []string{
		"Riverside Consulting LLC",
		"Northwind Traders",
		"Acme Hosting, Inc.",
		"Café Lumière",
		"Müller & Söhne GmbH",
		"O'Brien Office Supplies",
		`The "Blue Door" Bakery`,
		"Skåne Logistik AB",
		"Żabka Polska sp. z o.o.",
		"東京コーヒー株式会社",
		"Globex Corporation",
		"Initech Software Ltd.",
		"Papelería Ñandú S.L.",
		"Smith, Jones & Partners",
		`Back\Slash (Tools) Ltd`,
	}
	genDescriptions = []string{
		"Strategy Consulting — May",
		"Cloud hosting (monthly)",
		"Espresso",
		"Croissant",
		"Printer paper A4, 5 reams",
		"Freight: Oslo → Bergen",
		`Software licence "Pro" seat`,
		`Cable 3/4" \ adapter`,
		"Café crème",
		"Support hours",
		"Desk lamp",
		"Shipping & handling",
	}
	genCurrencies     = []string{"USD", "EUR", "GBP", "CAD", "AUD", "CHF"}
	genTaxBasisPoints = []int64{0, 500, 725, 1000, 1900, 2000, 2500}
	genPayments       = []string{"card", "cash", "Visa •••• 4242", "Apple Pay"}
	genQuantities     = []string{"1", "2", "3", "5", "10", "12", "35", "1.5", "0.25", "2.5"}
)

// Generate returns n varied sample files, the same for the same n and seed:
// PDF and CSV, invoices and receipts, several currencies and tax rates, one
// to five line items, some file names with spaces, quotes, non-ASCII text or
// an upper-case extension. Every twentieth file (index 3, 23, 43, …) carries
// FailMarker, about 5%. Names are unique within one call and each is a plain
// base name (no slash, not starting with a dot).
func Generate(n int, seed int64) []File {
	if n <= 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed_d0c5))
	files := make([]File, 0, n)
	for i := 0; i < n; i++ {
		inv := generateInvoice(rng, i)
		inv.FailExtraction = i%20 == 3
		name := generateName(rng, i, inv)
		f, err := Render(name, inv)
		if err != nil {
			// generateName only makes .pdf and .csv names.
			continue
		}
		files = append(files, f)
	}
	return files
}

func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

func generateInvoice(rng *rand.Rand, i int) Invoice {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	date := base.AddDate(0, 0, rng.IntN(365))
	inv := Invoice{
		Merchant: pick(rng, genMerchants),
		Date:     date.Format(time.DateOnly),
		Currency: pick(rng, genCurrencies),
	}
	if rng.IntN(3) == 0 {
		inv.DocumentType = TypeReceipt
		inv.PaymentMethod = pick(rng, genPayments)
		if rng.IntN(4) != 0 {
			inv.InvoiceID = fmt.Sprintf("R-%06d", rng.IntN(1_000_000))
		}
	} else {
		inv.DocumentType = TypeInvoice
		inv.InvoiceID = fmt.Sprintf("INV-2026-%05d", i)
		inv.DueDate = date.AddDate(0, 0, 30).Format(time.DateOnly)
		if rng.IntN(4) == 0 {
			inv.PaymentMethod = "bank_transfer"
		}
	}
	items := 1 + rng.IntN(5)
	for range items {
		inv.LineItems = append(inv.LineItems, LineItem{
			Description: pick(rng, genDescriptions),
			Quantity:    pick(rng, genQuantities),
			UnitPrice:   FormatCents(50 + rng.Int64N(250_000)),
		})
	}
	// The pools keep every value in range, so this cannot fail.
	_ = inv.ComputeTotals(pick(rng, genTaxBasisPoints))
	return inv
}

func generateName(rng *rand.Rand, i int, inv Invoice) string {
	ext := ".pdf"
	if rng.IntN(2) == 0 {
		ext = ".csv"
	}
	switch rng.IntN(10) {
	case 0:
		return fmt.Sprintf("Scan %s %05d%s", inv.Date, i, ext)
	case 1:
		return fmt.Sprintf("%s %s %05d%s", nameWord(inv.Merchant), inv.DocumentType, i, ext)
	case 2:
		return fmt.Sprintf("O'Brien's copy %05d%s", i, strings.ToUpper(ext))
	case 3:
		return fmt.Sprintf("請求書-%05d%s", i, ext)
	default:
		if inv.DocumentType == TypeInvoice {
			// The invoice id already holds i.
			return fmt.Sprintf("%s-%s%s", slug(inv.Merchant), inv.InvoiceID, ext)
		}
		return fmt.Sprintf("%s-receipt-%05d%s", slug(inv.Merchant), i, ext)
	}
}

// nameWord returns the first word of a merchant name, as typed into a
// scanner's file name: it may hold quotes or non-ASCII letters.
func nameWord(merchant string) string {
	w, _, _ := strings.Cut(merchant, " ")
	w = strings.NewReplacer("/", "", "\\", "", ",", "").Replace(w)
	if w == "" || strings.HasPrefix(w, ".") {
		return "doc"
	}
	return w
}

// asciiFold replaces the accented letters of the merchant pool.
var asciiFold = strings.NewReplacer("é", "e", "è", "e", "ü", "u", "ö", "o", "å", "a", "ñ", "n", "ż", "z", "í", "i")

// slug turns a merchant name into lower-case ASCII words joined by hyphens.
func slug(s string) string {
	var sb strings.Builder
	dash := false
	for _, r := range asciiFold.Replace(strings.ToLower(s)) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && sb.Len() > 0 {
				sb.WriteByte('-')
			}
			sb.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	if sb.Len() == 0 {
		return "merchant"
	}
	return sb.String()
}
