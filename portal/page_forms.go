package portal

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	webhook "github.com/outhook/webhook"
)

// pageForm is the add/edit webhook form as shown: its values (what the
// customer typed, when the form comes back with errors) and its errors by
// field.
type pageForm struct {
	Action      string // where the form posts
	ID          string // prefix of its fields' ids: "new" or "edit"
	Edit        bool   // an existing endpoint: no secret field
	Name        string
	URL         string
	Method      string
	ContentType string
	Events      []pageEventChoice // the catalogue, as checkboxes
	EventsText  string            // free text when there is no catalogue
	MaxAttempts string
	Active      bool
	Errors      map[string]string // by form field name; "" is the whole form
}

// pageEventChoice is one checkbox of the events field.
type pageEventChoice struct {
	Name        string
	Description string
	Checked     bool
}

// Catalogue reports whether the form offers checkboxes.
func (f *pageForm) Catalogue() bool { return len(f.Events) > 0 }

// pageNewForm is the empty add form.
func (h *Handler) pageNewForm() *pageForm {
	f := &pageForm{Action: h.link("/endpoints"), ID: "new", Method: http.MethodPost, ContentType: webhook.ContentTypeJSON, Active: true}
	f.Events = h.pageEventChoices(nil)
	return f
}

// pageEditForm is the edit form of ep, showing its URL redacted.
func (h *Handler) pageEditForm(ep *webhook.Endpoint) *pageForm {
	f := &pageForm{Action: h.link("/endpoints/" + ep.ID), ID: "edit", Edit: true, Name: ep.Name, URL: ep.RedactedURL(),
		Method: ep.Method, ContentType: ep.ContentType, Active: !ep.Inactive}
	if ep.MaxAttempts > 0 {
		f.MaxAttempts = strconv.Itoa(ep.MaxAttempts)
	}
	f.Events = h.pageEventChoices(ep.Events)
	if !f.Catalogue() {
		f.EventsText = strings.Join(ep.Events, ", ")
	}
	return f
}

// pageEventChoices lists the catalogue as checkboxes, checked, plus any
// of selected the catalogue does not name (a prefix such as "post.*"),
// so saving the form keeps them.
func (h *Handler) pageEventChoices(selected []string) []pageEventChoice {
	if len(h.cfg.EventTypes) == 0 {
		return nil
	}
	var out []pageEventChoice
	for _, et := range h.cfg.EventTypes {
		out = append(out, pageEventChoice{Name: et.Name, Description: et.Description, Checked: slices.Contains(selected, et.Name)})
	}
	for _, s := range selected {
		if !slices.ContainsFunc(h.cfg.EventTypes, func(et EventType) bool { return et.Name == s }) {
			out = append(out, pageEventChoice{Name: s, Checked: true})
		}
	}
	return out
}

// pageParseForm reads the add or edit form from r into params and into a
// pageForm to show again if the Dispatcher rejects it. cur is the
// endpoint being edited (nil when adding): a URL sent back unchanged in
// its redacted form keeps cur's URL.
func (h *Handler) pageParseForm(r *http.Request, cur *webhook.Endpoint) (webhook.EndpointParams, *pageForm, bool) {
	f := h.pageNewForm()
	if cur != nil {
		f = h.pageEditForm(cur)
	}
	f.Errors = map[string]string{}
	f.Name = strings.TrimSpace(r.PostFormValue("name"))
	f.URL = strings.TrimSpace(r.PostFormValue("url"))
	f.Method = r.PostFormValue("method")
	f.ContentType = r.PostFormValue("content_type")
	f.MaxAttempts = strings.TrimSpace(r.PostFormValue("max_attempts"))
	f.Active = r.PostFormValue("active") != ""
	p := webhook.EndpointParams{Name: f.Name, URL: f.URL, Method: f.Method, ContentType: f.ContentType, Inactive: !f.Active}
	if cur != nil {
		p.RateLimit = cur.RateLimit // the application's setting: the form keeps it
		p.Ordered = cur.Ordered     // the application's setting: the form keeps it
		p.Headers = cur.Headers
		if f.URL == cur.RedactedURL() {
			p.URL = cur.URL
		}
	} else {
		p.Secret = r.PostFormValue("secret") // never shown back in the form
	}
	if f.Catalogue() {
		chosen := r.PostForm["events"]
		for i := range f.Events {
			f.Events[i].Checked = slices.Contains(chosen, f.Events[i].Name)
			if f.Events[i].Checked {
				p.Events = append(p.Events, f.Events[i].Name)
			}
		}
	} else {
		f.EventsText = r.PostFormValue("events_text")
		for _, e := range strings.Split(f.EventsText, ",") {
			if e = strings.TrimSpace(e); e != "" {
				p.Events = append(p.Events, e)
			}
		}
	}
	if f.MaxAttempts != "" {
		n, err := strconv.Atoi(f.MaxAttempts)
		if err != nil || n < 1 || n > webhook.MaxAttemptsLimit {
			f.Errors["max_attempts"] = "Enter a whole number from 1 to " + strconv.Itoa(webhook.MaxAttemptsLimit) + ", or leave it empty."
			return p, f, false
		}
		p.MaxAttempts = n
	}
	return p, f, true
}

// pageFormFields maps the Dispatcher's ValidationError fields to the
// form's.
var pageFormFields = map[string]string{
	"Name": "name", "URL": "url", "Method": "method", "ContentType": "content_type",
	"Events": "events", "MaxAttempts": "max_attempts", "Secret": "secret",
}

// pageFormError puts a rejection of the Dispatcher on the form, and
// reports whether it was one the customer can fix (otherwise the caller
// shows the error page).
func pageFormError(f *pageForm, err error) bool {
	var ve *webhook.ValidationError
	switch {
	case errors.As(err, &ve):
		field, ok := pageFormFields[ve.Field]
		if !ok {
			field = ""
		}
		f.Errors[field] = pageSentence(ve.Reason)
	case errors.Is(err, webhook.ErrUnknownEventType):
		f.Errors["events"] = "One of these event types does not exist."
	case errors.Is(err, webhook.ErrTooManyEndpoints):
		f.Errors[""] = "You have reached the maximum number of webhooks. Delete one to add another."
	case errors.Is(err, webhook.ErrInvalid):
		f.Errors[""] = pageSentence(err.Error())
	default:
		return false
	}
	return true
}

// pageSentence capitalises a reason and ends it with a full stop.
func pageSentence(s string) string {
	s = strings.TrimSpace(strings.TrimPrefix(s, "webhook: "))
	if s == "" {
		return "This value is not valid."
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
