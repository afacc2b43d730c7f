package farmdb

import "testing"

// ChangeMessage writes what CreateWiki's getChangeMessage writes: values
// escaped as htmlspecialchars does, trailing space cut, blank lines folded,
// continuation lines indented, and list items when several fields changed.
func TestChangeMessage(t *testing.T) {
	for _, tc := range []struct {
		changes []Change
		want    string
	}{
		{[]Change{{"sitename", "Old", "New"}},
			"Field ''sitename'' changed:\n*'''Old value''': Old\n*'''New value''': New"},
		{[]Change{{"reason", "a\n\n\nb \n", "<x> & 'y' \"z\""}},
			"Field ''reason'' changed:\n*'''Old value''': a\n: b\n*'''New value''': &lt;x&gt; &amp; &#039;y&#039; &quot;z&quot;"},
		{[]Change{{"sitename", "A", "B"}, {"private", "false", "true"}, {"reason", "x\ny", "z"}},
			"* Field ''sitename'' changed:\n** '''Old value''': A\n** '''New value''': B\n" +
				"* Field ''private'' changed:\n** '''Old value''': false\n** '''New value''': true\n" +
				"* Field ''reason'' changed:\n** '''Old value''': x\n*: y\n** '''New value''': z"},
	} {
		if got := ChangeMessage(tc.changes); got != tc.want {
			t.Errorf("ChangeMessage(%v):\n got %q\nwant %q", tc.changes, got, tc.want)
		}
	}
	if got := RequestURL("demowiki", "wiki", "example.org"); got != "demo.example.org" {
		t.Errorf("RequestURL: %q", got)
	}
}
