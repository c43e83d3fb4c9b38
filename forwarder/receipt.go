package forwarder

// Receipt says which accepted request carried a delivery, for a
// destination that reports on its processing later (Data Manager): the
// request id Google answered, the delivery's position in the request's
// events[] and its destination's position in destinations[]. The zero
// Receipt (no RequestID) means there is nothing to ask about.
type Receipt struct {
	RequestID string
	Index     int
	Dest      int
}
