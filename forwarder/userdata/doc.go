// Package userdata normalises and hashes user-provided data (the caller's
// phone number, an e-mail address) the way Google requires before it is
// sent for matching: Google Ads enhanced conversions, the Data Manager API
// and GA4's user_data all share the rules.
//
// Normalisation comes first, hashing second, and the two are separate
// functions: a caller that needs the clear value (a Google Ads call
// conversion carries the caller id in clear) normalises only, and a test can
// check each step against Google's documented examples.
//
//   - Phone numbers become E.164 ("+61412345678"): numbers written in
//     national form are read in a default region, parsed and validated with
//     github.com/nyaruka/phonenumbers (a port of libphonenumber, the library
//     Google itself uses). Withheld ("anonymous") and invalid numbers are
//     errors rather than something hashed: a hash of garbage would never
//     match and only hide the problem.
//   - E-mail addresses are trimmed of every space and lower-cased; for
//     gmail.com and googlemail.com every dot of the local part is removed,
//     and so is a "+tag" suffix (Google's Data Manager formatting guide), since
//     Google accounts ignore both.
//   - Hashes are SHA-256 as 64 lowercase hexadecimal characters, the one form
//     every Google endpoint accepts (the Google Ads API rejects upper case).
//
// The package keeps no state and does no I/O.
package userdata
