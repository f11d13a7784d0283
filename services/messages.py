"""Words for each domain error code, marked for translation and shown by handlers and CLI."""

from services.texts import N_

ERROR_TEXTS = {
    "identifier_malformed": N_(
        "This does not look like a personal number. It has 14 characters, "
        "for example 3270287A012PB2: find it in your passport or ID card."
    ),
    "identifier_check_digit": N_(
        "The personal number has a typo: its last digit does not match the others. "
        "Check it against your document."
    ),
    "identifier_birth_date": N_(
        "The personal number has a typo: the date of birth in it does not exist."
    ),
    "credentials_invalid": N_("Wrong identifier or password."),
    "sign_in_locked": N_(
        "Too many failed attempts. Sign-in for this identifier is locked until {until}."
    ),
    "identifier_blocked": N_(
        "Your unique identifier is blocked, so electronic access is closed. "
        "To unblock it, apply in writing at any one-window service with your passport."
    ),
    "temporary_password_expired": N_(
        "Your temporary password has expired. Ask the one-window service for a new one."
    ),
    "session_expired": N_("Your session has ended. Please sign in again."),
    "password_too_short": N_("The password is too short: use at least {minimum} characters."),
    "password_too_long": N_("The password is too long: use at most {maximum} characters."),
    "password_needs_letters_and_digits": N_("The password needs both letters and digits."),
    "password_contains_identifier": N_("The password must not contain your identifier."),
    "password_common": N_("This password is too common and easy to guess. Choose another."),
    "answer_required": N_("This answer is required. Please type it."),
    "answer_too_long": N_(
        "The answer is too long: {length} characters, at most {maximum} are allowed. "
        "Please shorten it."
    ),
    "number_invalid": N_("Please send a number, for example 12."),
    "number_not_whole": N_("Please send a whole number, for example 2."),
    "number_out_of_range": N_("The number must be from {minimum} to {maximum}."),
    "date_invalid": N_("Please send a real date as DD.MM.YYYY, for example 05.03.2024."),
    "date_in_future": N_("This date cannot be in the future."),
    "email_invalid": N_("Please send an e-mail address, for example name@example.by."),
    "phone_malformed": N_("Please send a mobile number, for example +375 29 123-45-67."),
    "phone_not_belarusian": N_("Only Belarusian numbers (+375) are accepted."),
    "phone_not_mobile": N_("Please send a mobile number (codes 25, 29, 33, 44)."),
    "choice_invalid": N_("Please choose one of the buttons below the question."),
    "yes_no_invalid": N_("Please press Yes or No below the question."),
    "attachment_expected": N_("Please send a document (PDF) or a photo."),
    "attachment_type": N_("This file type is not accepted. Send a PDF, JPEG or PNG file."),
    "attachment_too_large": N_("The file is too large: at most {maximum_mb} MB."),
    "attachment_too_many": N_("At most {maximum} files can be attached here."),
    "answers_incomplete": N_("Some required answers are missing. Please fill in the form again."),
    "procedure_not_found": N_("This procedure is no longer in the catalog."),
    "procedure_revised": N_("The procedure has changed since you started the application."),
    "application_not_found": N_("Application not found."),
    "application_decided": N_(
        "A decision has already been taken on this application, so it cannot be withdrawn."
    ),
    "application_already_withdrawn": N_("This application has already been withdrawn."),
    "document_kind_unknown": N_("Unknown identity document kind."),
    "document_number_malformed": N_("The identity document number is malformed."),
    "document_dates_invalid": N_("The identity document's dates are impossible."),
    "document_expired": N_("The identity document has expired."),
    "document_issuing_body_missing": N_("The body that issued the document is missing."),
    "birth_date_mismatch": N_("The date of birth does not match the personal number."),
    "sex_mismatch": N_("The sex does not match the personal number."),
    "not_attested": N_("The clerk has not attested that the data matches the document."),
    "full_name_missing": N_("The full name is missing."),
    "identifier_already_assigned": N_(
        "An identifier was already assigned to this person (active or blocked). "
        "A blocked one is restored by an unblock request."
    ),
    "phone_in_use": N_("This phone number is already used with another identifier."),
    "decision_text_missing": N_("The decision needs a text."),
    "decision_text_too_long": N_("The decision text is too long: at most {maximum} characters."),
    "catalog_unreadable": N_("The catalog file cannot be read: {reason}"),
    "phone_not_confirmed": N_(
        "The phone is not confirmed: send a code and enter the one the citizen reads out."
    ),
    "phone_unchanged": N_("This is already the identifier's phone number."),
    "identifier_not_found": N_("No identifier was issued for this personal number."),
    "identifier_already_blocked": N_("This identifier is already blocked."),
    "identifier_not_blocked": N_("This identifier is not blocked."),
    "code_resend_too_soon": N_("A code was sent a moment ago. Send again in {seconds} s."),
    "code_limit_reached": N_("Too many codes for this phone in the last hour. Try later."),
    "code_unknown": N_("No such code was sent. Send a new code."),
    "code_expired": N_("The code has expired. Send a new code."),
    "code_voided": N_("Three wrong codes: this code no longer works. Send a new code."),
    "code_wrong": N_("Wrong code. Attempts left: {attempts_left}."),
    "code_malformed": N_("The code is {length} digits. Please send just the digits."),
    "password_unchanged": N_("The new password must differ from the current one."),
    "staff_not_found": N_("No such staff member."),
    "too_many_attempts": N_("Too many attempts from this chat. Please wait {seconds} s."),
    "application_already_decided": N_("A decision has already been taken on this application."),
}
