package samples

// Demo returns eight hand-picked, realistic sample files for the demo and the
// README: the article's Riverside Consulting invoice, CSV invoices, receipts
// in several currencies, odd but legal names, and one that fails extraction.
// The result is the same on every call.
func Demo() []File {
	docs := []struct {
		name string
		tax  int64 // basis points
		inv  Invoice
	}{
		{"riverside-consulting-INV-2026-0091.pdf", 1000, Invoice{
			DocumentType: TypeInvoice, Merchant: "Riverside Consulting LLC", InvoiceID: "INV-2026-0091",
			Date: "2026-05-01", DueDate: "2026-05-31", Currency: "USD",
			LineItems: []LineItem{{Description: "Strategy Consulting — May", Quantity: "35", UnitPrice: "100.00"}},
		}},
		{"northwind-traders-INV-88412.csv", 2000, Invoice{
			DocumentType: TypeInvoice, Merchant: "Northwind Traders", InvoiceID: "INV-88412",
			Date: "2026-05-04", DueDate: "2026-06-03", Currency: "EUR", PaymentMethod: "bank_transfer",
			LineItems: []LineItem{
				{Description: "Organic coffee beans, 1 kg", Quantity: "12", UnitPrice: "18.50"},
				{Description: "Paper cups (pack of 100)", Quantity: "5", UnitPrice: "7.90"},
				{Description: "Delivery", Quantity: "1", UnitPrice: "15.00"},
			},
		}},
		{"Café Lumière receipt 2026-05-06.pdf", 1000, Invoice{
			DocumentType: TypeReceipt, Merchant: "Café Lumière", InvoiceID: "R-004417",
			Date: "2026-05-06", Currency: "EUR", PaymentMethod: "card",
			LineItems: []LineItem{
				{Description: "Café crème", Quantity: "2", UnitPrice: "3.80"},
				{Description: "Croissant", Quantity: "3", UnitPrice: "1.95"},
			},
		}},
		{"taxi receipt 2026-05-07.csv", 0, Invoice{
			DocumentType: TypeReceipt, Merchant: "Yellow Cab Co.", Date: "2026-05-07",
			Currency: "USD", PaymentMethod: "cash",
			LineItems: []LineItem{{Description: "Airport ride", Quantity: "1", UnitPrice: "48.75"}},
		}},
		{"O'Brien Office Supplies INV-7731.pdf", 2000, Invoice{
			DocumentType: TypeInvoice, Merchant: "O'Brien Office Supplies", InvoiceID: "INV-7731",
			Date: "2026-05-08", DueDate: "2026-06-07", Currency: "GBP",
			LineItems: []LineItem{
				{Description: "Printer paper A4, 5 reams", Quantity: "4", UnitPrice: "22.99"},
				{Description: `Monitor arm "Flex" (dual)`, Quantity: "2", UnitPrice: "89.00"},
			},
		}},
		{"Müller & Söhne Rechnung 2026-118.csv", 1900, Invoice{
			DocumentType: TypeInvoice, Merchant: "Müller & Söhne, GmbH", InvoiceID: "RE-2026-118",
			Date: "2026-05-11", DueDate: "2026-05-25", Currency: "EUR",
			LineItems: []LineItem{
				{Description: "Wartung Kältetechnik", Quantity: "6.5", UnitPrice: "84.00"},
				{Description: "Ersatzteil: Ventil ½\"", Quantity: "2", UnitPrice: "37.40"},
			},
		}},
		{"acme-hosting-INV-2026-05.PDF", 725, Invoice{
			DocumentType: TypeInvoice, Merchant: "Acme Hosting, Inc.", InvoiceID: "INV-2026-05",
			Date: "2026-05-15", DueDate: "2026-06-14", Currency: "CAD", PaymentMethod: "card",
			LineItems: []LineItem{
				{Description: "Cloud hosting (monthly)", Quantity: "1", UnitPrice: "249.00"},
				{Description: "Extra storage, 500 GB", Quantity: "3", UnitPrice: "12.50"},
				{Description: "Support hours", Quantity: "1.5", UnitPrice: "120.00"},
			},
		}},
		{"fax-scan-0519.pdf", 1000, Invoice{
			DocumentType: TypeInvoice, Merchant: "Unknown (illegible fax)", Date: "2026-05-19",
			Currency: "USD", FailExtraction: true,
			LineItems: []LineItem{{Description: "illegible", Quantity: "1", UnitPrice: "0.00"}},
		}},
	}
	files := make([]File, 0, len(docs))
	for _, d := range docs {
		inv := d.inv
		// The values above are in range; ComputeTotals cannot fail on them.
		_ = inv.ComputeTotals(d.tax)
		f, err := Render(d.name, inv)
		if err != nil {
			continue
		}
		files = append(files, f)
	}
	return files
}
