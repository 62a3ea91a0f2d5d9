

def test_causes_of_batches_add_up_per_subject_most_documents_first():
    from twinfield.domain.validation import merge_causes

    first = [{"code": "no_account", "subject": "ledger 8999", "documents": 2},
             {"code": "no_vat", "subject": "tax rate 6%", "documents": 1}]
    second = [{"code": "no_vat", "subject": "tax rate 6%", "documents": 3},
              {"code": "currency", "subject": "currency USD", "documents": 2}]
    assert merge_causes([first, second, []]) == [
        {"code": "no_vat", "subject": "tax rate 6%", "documents": 4},
        {"code": "currency", "subject": "currency USD", "documents": 2},
        {"code": "no_account", "subject": "ledger 8999", "documents": 2},
    ]
