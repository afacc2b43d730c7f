package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/requestwiki"
)

// startCommand builds a command that starts a process from flags and prints
// its status once it has checked its request.
func (a *app) startCommand(use, short string, flags map[string]*string, bind func(*cobra.Command),
	start func(ctx context.Context) (process.Status, error)) *cobra.Command {
	cmd := a.connectedCommand(use, short,
		func() error {
			values := map[string]string{}
			for name, p := range flags {
				values[name] = *p
			}
			return required(values)
		},
		func(ctx context.Context) error {
			st, err := start(ctx)
			if st.ID != "" {
				a.printStatus(st)
			}
			return err
		})
	for name, p := range flags {
		cmd.Flags().StringVar(p, name, "", name)
	}
	if bind != nil {
		bind(cmd)
	}
	return cmd
}

// wikiReasonCommand builds a command `verb --db DB --requester USER
// --reason R` that starts a process with start, a client method taking just
// those three.
func (a *app) wikiReasonCommand(verb, short string,
	start func(c *client.Client, ctx context.Context, db, requester, reason string) (process.Status, error)) *cobra.Command {
	var db, requester, reason string
	return a.startCommand(verb+" --db DB --requester USER --reason R", short,
		map[string]*string{"db": &db, "requester": &requester, "reason": &reason}, nil,
		func(ctx context.Context) (process.Status, error) {
			return start(a.client, ctx, db, requester, reason)
		})
}

func (a *app) deleteWikiCommand() *cobra.Command {
	return a.wikiReasonCommand("delete-wiki",
		"Ask for a wiki's deletion: approvals, then a grace period, then a verified backup and the removal",
		(*client.Client).DeleteWiki)
}

func (a *app) changeSettingCommand() *cobra.Command {
	var db, setting, value, requester, reason string
	return a.startCommand("change-setting --db DB --setting NAME --value JSON --requester USER --reason R",
		"Change a ManageWiki setting; a restricted one waits for a steward's approval",
		map[string]*string{"db": &db, "setting": &setting, "value": &value, "requester": &requester, "reason": &reason}, nil,
		func(ctx context.Context) (process.Status, error) {
			return a.client.ChangeSetting(ctx, db, setting, value, requester, reason)
		})
}

func (a *app) requestWikiCommand() *cobra.Command {
	var req client.CreateWikiRequest
	var reason string
	return a.startCommand("request-wiki --db DB --sitename S --language L --requester USER --reason R",
		"File a wiki request for two wiki creators to review",
		map[string]*string{"db": &req.Wiki.DB, "sitename": &req.Wiki.Sitename, "language": &req.Wiki.Language,
			"requester": &req.Requester, "reason": &reason},
		func(cmd *cobra.Command) {
			cmd.Flags().BoolVar(&req.Wiki.Private, "private", false, "only logged-in members may read")
			cmd.Flags().StringVar(&req.Wiki.Category, "category", "uncategorised", "the wiki's category")
			cmd.Flags().StringVar(&req.Email, "email", "", "address told when the wiki is ready")
		},
		func(ctx context.Context) (process.Status, error) { return a.client.RequestWiki(ctx, req, reason) })
}

// messageCommand builds a command that sends action to process ID on
// behalf of --user, with an optional --comment; needed names flags that
// must not be empty (the caller defines any beyond user and comment; a nil
// pointer stands for --comment itself). An action the process's kind does
// not take is refused before anything connects.
func (a *app) messageCommand(action, use, short string, needed map[string]*string,
	send func(ctx context.Context, id, user, comment string) (process.Status, error)) *cobra.Command {
	var user, comment string
	cmd := &cobra.Command{
		Use: use, Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			values := map[string]string{"user": user}
			for name, p := range needed {
				if p == nil {
					p = &comment
				}
				values[name] = *p
			}
			if err := required(values); err != nil {
				return err
			}
			if err := client.CheckAction(args[0], action); err != nil {
				return invalid(err)
			}
			if err := a.connect(cmd); err != nil {
				return err
			}
			st, err := send(cmd.Context(), args[0], user, comment)
			if st.ID != "" {
				a.printStatus(st)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "who decides (their rights are checked by the process)")
	cmd.Flags().StringVar(&comment, "comment", "", "a comment recorded with the decision")
	return cmd
}

func (a *app) decisionCommands() []*cobra.Command {
	decide := func(action process.Decision) func(ctx context.Context, id, user, comment string) (process.Status, error) {
		return func(ctx context.Context, id, user, comment string) (process.Status, error) {
			return a.client.Decide(ctx, id, action, user, comment)
		}
	}
	review := func(action string) func(ctx context.Context, id, user, comment string) (process.Status, error) {
		return func(ctx context.Context, id, user, comment string) (process.Status, error) {
			return a.client.Review(ctx, id, requestwiki.ReviewRequest{Action: action, User: user, Comment: comment})
		}
	}
	var sitename, language, category string
	edit := a.messageCommand(client.ActionEditRequest, "edit-request ID --user USER [--sitename S] [--language L] [--category C] [--comment C]",
		"Edit your wiki request (brings it back to review)", nil,
		func(ctx context.Context, id, user, comment string) (process.Status, error) {
			return a.client.Review(ctx, id, requestwiki.ReviewRequest{Action: requestwiki.ReviewEdit, User: user, Comment: comment,
				Sitename: sitename, Language: language, Category: category})
		})
	edit.Flags().StringVar(&sitename, "sitename", "", "new sitename")
	edit.Flags().StringVar(&language, "language", "", "new language")
	edit.Flags().StringVar(&category, "category", "", "new category")
	return []*cobra.Command{
		a.messageCommand(client.ActionApprove, "approve ID --user USER", "Approve a process waiting for approval", nil, decide(process.DecisionApprove)),
		a.messageCommand(client.ActionDecline, "decline ID --user USER", "Decline a process waiting for approval", nil, decide(process.DecisionDecline)),
		a.messageCommand(client.ActionCancel, "cancel ID --user USER", "Withdraw a request (requester) or cancel it (steward)", nil, decide(process.DecisionCancel)),
		a.messageCommand(client.ActionHold, "hold ID --user USER", "Put a wiki request on hold", nil, review(requestwiki.ReviewHold)),
		a.messageCommand(client.ActionMoreDetails, "more-details ID --user USER --comment C", "Ask a wiki request's requester for more details", map[string]*string{"comment": nil}, review(requestwiki.ReviewMoreDetails)),
		a.messageCommand(client.ActionUndelete, "undelete ID --user USER", "Reopen a wiki during its deletion's grace period", nil,
			func(ctx context.Context, id, user, _ string) (process.Status, error) {
				return a.client.Undelete(ctx, id, user)
			}),
		edit,
	}
}
